import type { HealthCheck } from '../db/database.js'
import type { Logger } from '../logger.js'
import type { DampingOptions, HealthTransition, UnhealthyReason, WarnCause } from './damping.js'

const POLICY_REASONS: ReadonlySet<UnhealthyReason> = new Set(['not primary', 'replica lagging'])

/** One line per confirmed change of state: never one per check, so an outage costs two lines. */
export function logTransition(
  logger: Logger,
  transition: HealthTransition,
  check: HealthCheck,
  previousReason: UnhealthyReason | null,
): void {
  const role = { role: check.role, replayLagSeconds: check.replayLagSeconds }
  if (transition.healthy) {
    const message =
      previousReason && POLICY_REASONS.has(previousReason)
        ? 'database meets the readiness policy again'
        : 'database is reachable'
    logger.info({ latencyMs: check.latencyMs, ...role }, message)
  } else if (transition.reason && POLICY_REASONS.has(transition.reason)) {
    logger.warn({ reason: transition.reason, ...role }, 'database does not meet the readiness policy')
  } else {
    logger.warn({ reason: transition.reason }, 'database is unreachable')
  }
}

/** health+json's `warn` turning on or off, once per change. */
export function logWarnChange(
  logger: Logger,
  change: { cause: WarnCause; on: boolean },
  seen: { latencyMs: number; poolPercent: number },
  options: DampingOptions | undefined,
): void {
  const limit =
    change.cause === 'slow'
      ? { latencyMs: seen.latencyMs, warnLatencyMs: options?.warnLatencyMs }
      : { poolPercent: Math.round(seen.poolPercent), warnPoolPercent: options?.warnPoolPercent }
  if (change.on) logger.warn({ cause: change.cause, ...limit }, `database health: warn (${change.cause})`)
  else logger.info({ cause: change.cause, ...limit }, `database health: no longer ${change.cause}`)
}
