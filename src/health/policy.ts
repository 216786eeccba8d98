import type { HealthCheck } from '../db/database.js'

/** Opt-in readiness rules about the server's role; both off by default. */
export interface ReadinessPolicy {
  /** HEALTH_REQUIRE_PRIMARY: a standby is not ready (for services that write). */
  requirePrimary: boolean
  /** HEALTH_MAX_REPLAY_LAG_MS: a standby further behind than this is not ready; 0 = no limit. */
  maxReplayLagMs: number
}

export const NO_POLICY: ReadinessPolicy = { requirePrimary: false, maxReplayLagMs: 0 }

export type PolicyProblem = 'not primary' | 'replica lagging'

/**
 * Why a check that succeeded still does not meet the policy, or null. A lag the server cannot tell
 * (null) is not held against it: a standby that just started has replayed no transaction yet.
 */
export function policyProblem(check: HealthCheck, policy: ReadinessPolicy): PolicyProblem | null {
  if (!check.healthy || check.role !== 'standby') return null
  if (policy.requirePrimary) return 'not primary'
  const lag = check.replayLagSeconds
  if (policy.maxReplayLagMs > 0 && lag !== null && lag * 1000 > policy.maxReplayLagMs)
    return 'replica lagging'
  return null
}
