import { EventEmitter } from 'node:events'
import type { Database, HealthCheck } from '../db/database.js'
import type { Logger } from '../logger.js'

export interface MonitorOptions {
  intervalMs: number
  /** Not ready once the last successful check is older than this. */
  staleAfterMs: number
  /** watch() refuses more consumers than this at once (each is a live subscription). */
  maxWatchers?: number
}

/** watch() was asked for more consumers than maxWatchers. */
export class TooManyWatchersError extends Error {
  override name = 'TooManyWatchersError'
}

export interface Readiness {
  ready: boolean
  /** Why not, in a few fixed words; absent when ready. */
  reason?: 'starting' | 'database unreachable' | 'stale'
}

const FIRST_RETRY_MS = 250
const MAX_QUEUED_TRANSITIONS = 100

/**
 * Keeps the latest health report: it checks the database once per interval (and sooner, backing off
 * from 250 ms, while it is down), and it sees every on-demand check too. Readiness, metrics and the
 * healthChanged subscription read from here, so none of them waits on the database.
 *
 * Events: 'report' (every check), 'transition' (the first report and every change of `healthy`),
 * 'close' (stop(): live subscriptions end).
 */
export class HealthMonitor extends EventEmitter {
  latest: HealthCheck | undefined
  lastSuccessAt: Date | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private retryMs = FIRST_RETRY_MS
  private watchers = 0

  constructor(
    private readonly db: Pick<Database, 'checkHealth'>,
    private readonly options: MonitorOptions,
    private readonly logger: Logger,
  ) {
    super()
    // Each watcher listens for 'transition' and 'close'; Node warns past 10 listeners by default.
    // The few other listeners (metrics, tests) get room of their own.
    this.setMaxListeners((options.maxWatchers ?? 100) + 20)
  }

  /** Consumers of watch() right now. */
  get watcherCount(): number {
    return this.watchers
  }

  /** Checks now. Concurrent callers share the probe in flight (the database layer coalesces them). */
  async check(): Promise<HealthCheck> {
    const report = await this.db.checkHealth()
    this.record(report)
    return report
  }

  start(): void {
    if (this.timer || this.stopped) return
    const tick = async () => {
      const report = await this.check()
      if (this.stopped) return
      // While the database is down, look again sooner so readiness recovers quickly, backing off to the interval.
      const delay = report.healthy ? this.options.intervalMs : Math.min(this.retryMs, this.options.intervalMs)
      this.retryMs = report.healthy ? FIRST_RETRY_MS : Math.min(this.retryMs * 2, this.options.intervalMs)
      this.timer = setTimeout(tick, delay)
      this.timer.unref()
    }
    this.timer = setTimeout(tick, 0)
    this.timer.unref()
  }

  /** Stops the background checks and ends every live subscription. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.emit('close')
  }

  /** The database's part of readiness (the lifecycle adds "shutting down": src/rest/probes.ts). */
  readiness(now = Date.now()): Readiness {
    if (!this.latest) return { ready: false, reason: 'starting' }
    if (!this.latest.healthy) return { ready: false, reason: 'database unreachable' }
    if (!this.lastSuccessAt || now - this.lastSuccessAt.getTime() > this.options.staleAfterMs) {
      return { ready: false, reason: 'stale' }
    }
    return { ready: true }
  }

  /**
   * The current report, then every transition, until the consumer returns or the monitor stops.
   * Written by hand rather than with events.on() so that return() ends a consumer that is waiting.
   */
  watch(): AsyncIterableIterator<HealthCheck> {
    if (this.watchers >= (this.options.maxWatchers ?? Number.POSITIVE_INFINITY)) {
      throw new TooManyWatchersError(`at most ${this.options.maxWatchers} live subscriptions`)
    }
    const queue: HealthCheck[] = []
    let wake: (() => void) | undefined
    let done = false
    this.watchers++
    const onTransition = (report: HealthCheck) => {
      queue.push(report)
      if (queue.length > MAX_QUEUED_TRANSITIONS) queue.shift()
      wake?.()
    }
    const finish = () => {
      if (done) return
      done = true
      this.watchers--
      this.off('transition', onTransition)
      this.off('close', finish)
      wake?.()
    }
    this.on('transition', onTransition)
    this.once('close', finish)
    if (this.stopped) finish()
    else if (this.latest) queue.push(this.latest)
    else void this.check() // its report is the first transition, and so reaches the queue

    const iterator: AsyncIterableIterator<HealthCheck> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
        const value = queue.shift()
        return value ? { value, done: false } : { value: undefined, done: true }
      },
      return: async () => {
        finish()
        return { value: undefined, done: true }
      },
    }
    return iterator
  }

  private record(report: HealthCheck): void {
    const previous = this.latest
    // Callers that shared one probe all hand in the same report; an older one never replaces a newer.
    if (report === previous || (previous && report.checkedAt < previous.checkedAt)) return
    this.latest = report
    if (report.healthy) this.lastSuccessAt = report.checkedAt
    this.emit('report', report)
    if (previous?.healthy === report.healthy) return
    if (report.healthy) this.logger.info({ latencyMs: report.latencyMs }, 'database is reachable')
    else this.logger.warn({ reason: report.reason }, 'database is unreachable')
    this.emit('transition', report)
  }
}
