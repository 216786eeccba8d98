import { expect, it } from 'vitest'

// Run only by .ci/run through `CTERA_CANARY=1 npm test`, with the same global set-up as the suite (a real
// PostgreSQL). The run must exit non-zero; if it exits 0, a failing test would land as green.
it('fails on purpose', () => {
  expect(1 + 1).toBe(3)
})
