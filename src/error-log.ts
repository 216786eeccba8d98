import type { Logger } from './logger.js'

export interface ErrorLogOptions {
  /** An error logged once is not logged again for this long; repeats are counted instead. */
  windowMs?: number
  /** At most this many distinct errors are logged per window, whatever the clients send. */
  maxPerWindow?: number
}

export type LogUnexpected = (error: unknown, context?: Record<string, unknown>, message?: string) => void

/**
 * Logs unexpected errors (with their stack: they are our bugs or an operator's) without letting a
 * client that can trigger one flood the log: an identical error (same type and message) is logged once
 * per window, and at most maxPerWindow distinct ones are. What was held back is counted in one summary
 * line per window.
 */
export function createErrorLog(logger: Logger, options: ErrorLogOptions = {}): LogUnexpected {
  const windowMs = options.windowMs ?? 60_000
  const maxPerWindow = options.maxPerWindow ?? 20
  let windowStart = 0
  let logged = new Map<string, number>() // key -> repeats held back
  let heldBack = 0
  let summary: NodeJS.Timeout | undefined

  const closeWindow = (now: number) => {
    const repeats = [...logged.values()].reduce((sum, count) => sum + count, 0)
    if (repeats + heldBack > 0) {
      logger.warn(
        { repeats, distinctNotLogged: heldBack, windowSeconds: windowMs / 1000 },
        'unexpected errors not logged again (rate limit)',
      )
    }
    windowStart = now
    logged = new Map()
    heldBack = 0
    clearTimeout(summary)
    summary = undefined
  }
  // The summary is written when the window ends, even if no error comes after it.
  const scheduleSummary = (now: number) => {
    summary ??= setTimeout(() => closeWindow(Date.now()), windowStart + windowMs - now)
    summary.unref()
  }

  return (error, context = {}, message = 'unexpected error') => {
    const now = Date.now()
    if (now - windowStart >= windowMs) closeWindow(now)
    const key = keyOf(error)
    const repeats = logged.get(key)
    if (repeats !== undefined) {
      logged.set(key, repeats + 1)
      return scheduleSummary(now)
    }
    if (logged.size >= maxPerWindow) {
      heldBack++
      return scheduleSummary(now)
    }
    logged.set(key, 0)
    logger.error({ err: error, ...context }, message)
  }
}

function keyOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}:${error.message.slice(0, 200)}`
  return String(error).slice(0, 200)
}
