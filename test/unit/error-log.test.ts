import { describe, expect, it } from 'vitest'
import { createErrorLog } from '../../src/error-log.js'
import { createLogger } from '../../src/logger.js'
import { createLogSink } from '../support/log-sink.js'

function capture() {
  const sink = createLogSink()
  return { lines: sink.records, logger: createLogger('info', sink.stream) }
}

describe('the unexpected-error log', () => {
  it('logs an error once per window, with its stack, and then how many repeats it held back', async () => {
    const { lines, logger } = capture()
    // A window long enough that the 100 calls all fall in it, even on a busy machine.
    const log = createErrorLog(logger, { windowMs: 2000 })

    for (let index = 0; index < 100; index++) log(new Error('permission denied for function x'))
    const duringWindow = lines.length
    for (let waited = 0; lines.length < 2 && waited < 5000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }

    expect(duringWindow).toBe(1)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ level: 50, err: { message: 'permission denied for function x' } })
    expect(JSON.stringify(lines[0])).toContain('"stack":"Error: permission denied')
    expect(lines[1]).toMatchObject({ level: 40, repeats: 99, distinctNotLogged: 0 })
  })

  it('logs at most maxPerWindow distinct errors, however many a client can make up', () => {
    const { lines, logger } = capture()
    const log = createErrorLog(logger, { windowMs: 60_000, maxPerWindow: 5 })

    for (let index = 0; index < 1000; index++) log(new Error(`unique ${index}`))

    expect(lines).toHaveLength(5)
  })
})
