import type { Config } from '../config/load-config.js'
import type { HealthCheck } from '../db/database.js'
import type { FailureReason } from '../db/failure-reasons.js'
import { NO_POLICY, type PolicyProblem, policyProblem, type ReadinessPolicy } from './policy.js'
import { Ring } from './ring.js'

/**
 * A yes/no state that changes only after enough consecutive observations say otherwise, as Consul's
 * `failures_before_critical` and `success_before_passing` do: one lost packet must not take a replica
 * out of the load balancer, and one lucky answer must not put it back.
 */
export class Damper {
  private current: boolean | undefined
  private streak = 0

  /**
   * @param falseAfter consecutive `false` observations that turn a true state false
   * @param trueAfter consecutive `true` observations that turn a false state true
   * @param initial the state before any observation; undefined lets the first observation decide at once
   *   (so a service that starts against a healthy database is ready after one check, not N)
   */
  constructor(
    private readonly falseAfter: number,
    private readonly trueAfter: number,
    initial?: boolean,
  ) {
    if (!(falseAfter >= 1 && trueAfter >= 1)) throw new RangeError('thresholds must be 1 or more')
    this.current = initial
  }

  /** undefined until the first observation (when no initial state was given). */
  get state(): boolean | undefined {
    return this.current
  }

  /** Consecutive observations so far that disagree with the state (0 when the last one agreed). */
  get pending(): number {
    return this.streak
  }

  /** Records one observation; true when it changed the state. */
  observe(value: boolean): boolean {
    if (this.current === undefined) {
      this.current = value
      return true
    }
    if (value === this.current) {
      this.streak = 0
      return false
    }
    this.streak++
    if (this.streak < (value ? this.trueAfter : this.falseAfter)) return false
    this.current = value
    this.streak = 0
    return true
  }
}

/** Why the monitor counts the database unhealthy: a failed check, or a readiness policy it does not meet. */
export type UnhealthyReason = FailureReason | PolicyProblem

/** A change of the monitor's state, once confirmed by enough consecutive checks. */
export interface HealthTransition {
  /** When the check that confirmed it started. */
  at: Date
  /** The state from now on. */
  healthy: boolean
  /** Why it turned unhealthy; null when it turned healthy. */
  reason: UnhealthyReason | null
  /** How long the confirming check took, in milliseconds. */
  latencyMs: number
}

/** Reasons for health+json's `warn`: checks slower than the limit, or the query pool nearly full. */
export type WarnCause = 'slow' | 'saturated'

export interface DampingOptions {
  /** Consecutive unhealthy checks before a healthy state turns unhealthy (HEALTH_FAILURES_BEFORE_UNREADY). */
  failuresBeforeUnhealthy: number
  /** Consecutive healthy checks before an unhealthy state turns healthy (HEALTH_SUCCESSES_BEFORE_READY). */
  successesBeforeHealthy: number
  /** Consecutive slow (or saturated) checks before `warn`, and normal ones before it clears (HEALTH_CHECKS_BEFORE_WARN). */
  checksBeforeWarn: number
  warnLatencyMs: number
  warnPoolPercent: number
  /** Checks and transitions kept, each (HEALTH_HISTORY_SIZE). */
  historySize: number
  policy: ReadinessPolicy
}

export const NO_DAMPING: DampingOptions = {
  failuresBeforeUnhealthy: 1,
  successesBeforeHealthy: 1,
  checksBeforeWarn: 1,
  warnLatencyMs: 500,
  warnPoolPercent: 80,
  historySize: 100,
  policy: NO_POLICY,
}

export interface Observation {
  transition?: HealthTransition
  /** Warn causes that turned on or off with this check. */
  warnChanges: Array<{ cause: WarnCause; on: boolean }>
}

/**
 * The monitor's judgement, from the checks it makes itself: healthy or not after enough consecutive
 * checks agree, `warn` the same way, and a bounded history of both. No timers and no I/O, so every rule
 * can be shown with plain values.
 */
export class DampedHealth {
  readonly checks: Ring<HealthCheck>
  readonly transitions: Ring<HealthTransition>
  private readonly verdict: Damper
  private readonly warnings: Record<WarnCause, Damper>
  private problem: UnhealthyReason | null = null
  private lastObserved: HealthCheck | undefined

  constructor(private readonly options: DampingOptions = NO_DAMPING) {
    this.checks = new Ring(options.historySize)
    this.transitions = new Ring(options.historySize)
    this.verdict = new Damper(options.failuresBeforeUnhealthy, options.successesBeforeHealthy)
    const warnDamper = () => new Damper(options.checksBeforeWarn, options.checksBeforeWarn, true)
    this.warnings = { slow: warnDamper(), saturated: warnDamper() }
  }

  /** undefined before the first check. */
  get healthy(): boolean | undefined {
    return this.verdict.state
  }

  /** Why the state is unhealthy (the latest failing check's reason), or null. */
  get reason(): UnhealthyReason | null {
    return this.verdict.state === false ? this.problem : null
  }

  /** Consecutive checks so far that disagree with the state: above 0, the monitor is confirming a change. */
  get confirming(): number {
    return this.verdict.pending
  }

  isWarning(cause: WarnCause): boolean {
    return this.warnings[cause].state === false
  }

  /** Judges one check. A check already judged (a report shared by callers) changes nothing. */
  observe(check: HealthCheck, poolPercent: number): Observation {
    if (check === this.lastObserved) return { warnChanges: [] }
    this.lastObserved = check
    this.checks.push(check)

    const problem: UnhealthyReason | null = check.healthy
      ? policyProblem(check, this.options.policy)
      : (check.reason ?? 'database error')
    if (problem) this.problem = problem
    const observation: Observation = { warnChanges: [] }
    if (this.verdict.observe(problem === null)) {
      const transition: HealthTransition = {
        at: check.checkedAt,
        healthy: problem === null,
        reason: problem,
        latencyMs: check.latencyMs,
      }
      this.transitions.push(transition)
      observation.transition = transition
    }

    // A failed check says nothing about speed; the pool is worth watching either way.
    const fine: Partial<Record<WarnCause, boolean>> = {
      saturated: poolPercent < this.options.warnPoolPercent,
    }
    if (check.healthy) fine.slow = check.latencyMs <= this.options.warnLatencyMs
    for (const cause of ['slow', 'saturated'] as const) {
      const value = fine[cause]
      // The dampers hold "fine": true is pass, false is warn.
      if (value !== undefined && this.warnings[cause].observe(value)) {
        observation.warnChanges.push({ cause, on: !value })
      }
    }
    return observation
  }
}

export type DampingConfig = Pick<
  Config,
  | 'healthFailuresBeforeUnready'
  | 'healthSuccessesBeforeReady'
  | 'healthChecksBeforeWarn'
  | 'healthWarnLatencyMs'
  | 'healthWarnPoolPercent'
  | 'healthHistorySize'
  | 'healthRequirePrimary'
  | 'healthMaxReplayLagMs'
>

/** The monitor's judgement, from the HEALTH_* variables. */
export function dampingOptions(config: DampingConfig): DampingOptions {
  return {
    failuresBeforeUnhealthy: config.healthFailuresBeforeUnready,
    successesBeforeHealthy: config.healthSuccessesBeforeReady,
    checksBeforeWarn: config.healthChecksBeforeWarn,
    warnLatencyMs: config.healthWarnLatencyMs,
    warnPoolPercent: config.healthWarnPoolPercent,
    historySize: config.healthHistorySize,
    policy: readinessPolicy(config),
  }
}

/** HEALTH_REQUIRE_PRIMARY and HEALTH_MAX_REPLAY_LAG_MS: both off by default. */
export function readinessPolicy(
  config: Pick<DampingConfig, 'healthRequirePrimary' | 'healthMaxReplayLagMs'>,
): ReadinessPolicy {
  return { requirePrimary: config.healthRequirePrimary, maxReplayLagMs: config.healthMaxReplayLagMs }
}
