import { EventEmitter } from 'node:events'
import type { Database, HealthCheck, PoolStats } from '../db/database.js'
import type { RoleReport } from '../db/role.js'
import type { Logger } from '../logger.js'
import { DampedHealth, type DampingOptions, type HealthTransition, NO_DAMPING } from './damping.js'
import { type SubscriberLimits, Subscribers } from './subscribers.js'
import { logTransition, logWarnChange } from './transition-log.js'

export interface MonitorOptions extends SubscriberLimits {
  intervalMs: number
  /** Not ready once the last successful check is older than this, whatever the damping. */
  staleAfterMs: number
  /** Consecutive checks before the state, readiness or warn changes; history size; readiness policy. */
  damping?: DampingOptions
}

export interface Readiness {
  ready: boolean
  /** Why not, in a few fixed words; absent when ready. */
  reason?: 'starting' | 'database unreachable' | 'not primary' | 'replica lagging' | 'stale'
}

const FIRST_RETRY_MS = 250

/**
 * Keeps the latest health report and the service's judgement of it. It checks the database once per
 * interval (and sooner, backing off from 250 ms, while it is down or confirming a change); its own
 * checks decide the state, which changes only after enough consecutive checks agree (DampedHealth), so
 * a storm of on-demand checks during a blip cannot flip it. On-demand checks update `latest` only.
 * Readiness, metrics and the healthChanged subscription read from here, so none of them waits on the
 * database.
 *
 * Events: 'report' (every check), 'transition' (report, HealthTransition: the first state and every
 * confirmed change), 'close' (stop(): live subscriptions end).
 */
export class HealthMonitor extends EventEmitter {
  latest: HealthCheck | undefined
  lastSuccessAt: Date | undefined
  /** The server's role and lag, from the latest successful check that could tell them. */
  lastRole: RoleReport | undefined
  /** The judgement and the bounded history of the monitor's own checks. */
  readonly state: DampedHealth
  private timer: NodeJS.Timeout | undefined
  private isStopped = false
  private retryMs = FIRST_RETRY_MS
  private readonly subscribers: Subscribers

  constructor(
    private readonly db: Pick<Database, 'checkHealth' | 'poolStats'>,
    private readonly options: MonitorOptions,
    private readonly logger: Logger,
  ) {
    super()
    this.state = new DampedHealth(options.damping ?? NO_DAMPING)
    // Each watcher listens for 'transition' and 'close'; Node warns past 10 listeners by default.
    // The few other listeners (metrics, tests) get room of their own.
    this.setMaxListeners((options.maxWatchers ?? 100) + 20)
    this.subscribers = new Subscribers(this, options)
  }

  /** Consumers of watch() right now. */
  get watcherCount(): number {
    return this.subscribers.count
  }

  /** stop() was called: no more checks, and every subscription has ended. */
  get stopped(): boolean {
    return this.isStopped
  }

  /** Checks now. Concurrent callers share the probe in flight (the database layer coalesces them). */
  async check(): Promise<HealthCheck> {
    const report = await this.db.checkHealth()
    this.record(report)
    return report
  }

  /** One of the monitor's own checks: it checks, then counts the result toward a change of state. */
  async checkAndJudge(): Promise<HealthCheck> {
    const report = await this.check()
    if (!this.isStopped) this.judge(report)
    return report
  }

  start(): void {
    if (this.timer || this.isStopped) return
    const tick = async () => {
      await this.checkAndJudge()
      if (this.isStopped) return
      // While the database is down, or a change waits for confirmation, look again sooner (backing off to
      // the interval): readiness recovers quickly and a real outage is confirmed in about a second.
      if (this.state.confirming === 1) this.retryMs = FIRST_RETRY_MS
      const steady = this.state.healthy === true && this.state.confirming === 0
      const delay = steady ? this.options.intervalMs : Math.min(this.retryMs, this.options.intervalMs)
      this.retryMs = steady ? FIRST_RETRY_MS : Math.min(this.retryMs * 2, this.options.intervalMs)
      this.timer = setTimeout(tick, delay)
      this.timer.unref()
    }
    this.timer = setTimeout(tick, 0)
    this.timer.unref()
  }

  /** Stops the background checks and ends every live subscription. */
  stop(): void {
    this.isStopped = true
    clearTimeout(this.timer)
    this.emit('close')
  }

  /** The database's part of readiness (the lifecycle adds "shutting down": src/rest/probes.ts). */
  readiness(now = Date.now()): Readiness {
    if (this.state.healthy === undefined) return { ready: false, reason: 'starting' }
    if (!this.state.healthy) {
      const reason = this.state.reason
      const policy = reason === 'not primary' || reason === 'replica lagging'
      return { ready: false, reason: policy ? reason : 'database unreachable' }
    }
    // A cap on damping too: however many failures it waits for, no success for this long is not ready.
    if (!this.lastSuccessAt || now - this.lastSuccessAt.getTime() > this.options.staleAfterMs) {
      const failing = this.state.checks.newest()?.healthy === false
      return { ready: false, reason: failing ? 'database unreachable' : 'stale' }
    }
    return { ready: true }
  }

  /**
   * The current report, then every transition, until the consumer returns or the monitor stops
   * (src/health/subscribers.ts keeps the count and the limits).
   */
  watch(client = 'internal'): AsyncIterableIterator<HealthCheck> {
    return this.subscribers.watch(client)
  }

  private record(report: HealthCheck): void {
    const previous = this.latest
    // Callers that shared one probe all hand in the same report; an older one never replaces a newer.
    if (report === previous || (previous && report.checkedAt < previous.checkedAt)) return
    this.latest = report
    if (report.healthy) this.lastSuccessAt = report.checkedAt
    if (report.healthy && report.role) {
      this.lastRole = { role: report.role, replayLagSeconds: report.replayLagSeconds }
    }
    this.emit('report', report)
  }

  /** The monitor's own checks only: each one counts toward a change of state, logged once when it happens. */
  private judge(report: HealthCheck): void {
    const previousReason = this.state.reason
    const poolPercent = percentInUse(this.db.poolStats().queries)
    const { transition, warnChanges } = this.state.observe(report, poolPercent)
    for (const change of warnChanges) {
      logWarnChange(this.logger, change, { latencyMs: report.latencyMs, poolPercent }, this.options.damping)
    }
    if (!transition) return
    logTransition(this.logger, transition, report, previousReason)
    this.emit('transition', report, transition satisfies HealthTransition)
  }
}

/** Connections of the pool in use, as a share of its maximum, in percent. */
function percentInUse(pool: PoolStats): number {
  return pool.max > 0 ? ((pool.total - pool.idle) / pool.max) * 100 : 0
}
