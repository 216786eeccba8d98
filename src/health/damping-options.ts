import type { Config } from '../config.js'
import type { PoolStats } from '../db/database.js'
import type { DampingOptions } from './damped-state.js'
import type { ReadinessPolicy } from './policy.js'

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

/** Connections of the pool in use, as a share of its maximum, in percent. */
export function poolPercent(pool: PoolStats): number {
  return pool.max > 0 ? ((pool.total - pool.idle) / pool.max) * 100 : 0
}
