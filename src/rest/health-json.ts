import type { Database, HealthCheck, PoolStats } from '../db/database.js'
import type { DampedHealth } from '../health/damping.js'
import type { HealthMonitor } from '../health/monitor.js'
import { type PolicyProblem, policyProblem, type ReadinessPolicy } from '../health/policy.js'
import type { RestResponse } from '../http/respond.js'

export const HEALTH_JSON = 'application/health+json'

export interface HealthJsonOptions {
  containerName: string
  policy: ReadinessPolicy
  /** The monitor's warn thresholds (HEALTH_WARN_*, HEALTH_CHECKS_BEFORE_WARN), for `output` to cite. */
  warn: { latencyMs: number; poolPercent: number; checksInARow: number }
  /** Versions and failure reasons help an attacker; they are shown only when this is on. */
  details: boolean
  version: string
}

type Status = 'pass' | 'warn' | 'fail'

/** Entries of each history list shown with HEALTH_DETAILS; GraphQL's healthHistory pages through all of them. */
const HISTORY_SHOWN = 10

/** GET /healthz, and GET /health asking for health+json: checks now, through the monitor. */
export async function getHealthJson(
  monitor: HealthMonitor,
  db: Pick<Database, 'poolStats'>,
  options: HealthJsonOptions,
): Promise<RestResponse> {
  return healthJson(await monitor.check(), db.poolStats().queries, monitor.state, options)
}

/** One entry of `checks`, as the draft names its fields. */
interface CheckResult {
  componentType: 'datastore'
  observedValue?: number | string
  observedUnit?: string
  status: Status
  time: string
  /** Why it is not `pass`; the draft says to omit it on `pass`. */
  output?: string
}

// The REST answers' words for an outage; the reason itself is shown only with HEALTH_DETAILS.
const UNAVAILABLE = 'The database is unavailable.'

/**
 * The detailed report in the IETF "Health Check Response Format for HTTP APIs" draft
 * (application/health+json): pass and warn answer 200, fail answers 503. `fail` is this check, now (as
 * /health); `warn` is the monitor's judgement, set only after HEALTH_CHECKS_BEFORE_WARN slow or saturated
 * checks in a row, so one slow answer does not raise it. A role the readiness policy rejects warns too.
 * `output` says why a check is not `pass`, and is left out when it is.
 */
export function healthJson(
  report: HealthCheck,
  pool: PoolStats,
  judged: DampedHealth,
  options: HealthJsonOptions,
): RestResponse {
  const time = report.checkedAt.toISOString()
  const failure = options.details && report.reason ? report.reason : UNAVAILABLE
  const inARow = options.warn.checksInARow > 1 ? `, ${options.warn.checksInARow} checks in a row` : ''
  const inUse = { observedValue: pool.total - pool.idle, observedUnit: 'connections' }
  const checks: Record<string, CheckResult[]> = report.healthy
    ? {
        'postgresql:responseTime': [
          entry({ observedValue: report.latencyMs, observedUnit: 'ms' }, time, {
            warn: judged.isWarning('slow'),
            output: `checks slower than ${options.warn.latencyMs} ms${inARow}`,
          }),
        ],
        'postgresql:connections': [
          entry(inUse, time, {
            warn: judged.isWarning('saturated'),
            output: `query pool ${options.warn.poolPercent} % or more in use${inARow}`,
          }),
        ],
        ...roleChecks(report, policyProblem(report, options.policy), options.policy, time),
      }
    : {
        // The time a failed check took is the time it took to fail (up to the timeout), not the
        // database's response time: no value is observed. The pool cannot pass while the whole fails.
        'postgresql:responseTime': [entry({}, time, { fail: true, output: failure })],
        'postgresql:connections': [entry(inUse, time, { fail: true, output: failure })],
      }
  const results = Object.values(checks).flat()
  const status: Status = !report.healthy
    ? 'fail'
    : results.some((check) => check.status === 'warn')
      ? 'warn'
      : 'pass'
  const outputs = results.flatMap((check) => (check.output ? [check.output] : []))

  const body = {
    status,
    serviceId: options.containerName,
    description: 'ctera-app: can the service reach its PostgreSQL database?',
    ...(options.details ? { version: options.version.split('.')[0], releaseId: options.version } : {}),
    ...(status === 'pass' ? {} : { output: report.healthy ? outputs.join('; ') : failure }),
    checks,
    ...(options.details ? { history: recentHistory(judged) } : {}),
  }
  return {
    status: status === 'fail' ? 503 : 200,
    text: JSON.stringify(body),
    headers: { 'content-type': HEALTH_JSON },
  }
}

/**
 * One entry of `checks`, in the draft's field order: `fail` or `warn` (when `unless` says so) carry their
 * `output`; a passing check has none.
 */
function entry(
  observed: Pick<CheckResult, 'observedValue' | 'observedUnit'>,
  time: string,
  unless: { fail?: boolean; warn?: boolean; output: string },
): CheckResult {
  const status: Status = unless.fail ? 'fail' : unless.warn ? 'warn' : 'pass'
  return {
    componentType: 'datastore',
    ...observed,
    status,
    time,
    ...(status === 'pass' ? {} : { output: unless.output }),
  }
}

/**
 * True when the client prefers application/health+json to application/json, by the Accept header's
 * quality values (RFC 9110 12.5.1). health+json counts only where it is named: a client that accepts
 * any type, or any application type, gets the seed's body. A tie goes to health+json, which it named.
 */
export function wantsHealthJson(accept: string | undefined): boolean {
  if (!accept) return false
  const ranges = accept
    .toLowerCase()
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((piece) => piece.trim())
      const q = params.find((param) => param.startsWith('q='))
      const quality = q === undefined ? 1 : Number(q.slice(2))
      return { type, quality: Number.isFinite(quality) ? Math.min(Math.max(quality, 0), 1) : 0 }
    })
  const qualityOf = (types: string[]) => {
    // The most specific range that matches decides (RFC 9110: application/json over application/*).
    for (const type of types) {
      const match = ranges.find((range) => range.type === type)
      if (match) return match.quality
    }
    return 0
  }
  const healthJsonQuality = qualityOf([HEALTH_JSON])
  return healthJsonQuality > 0 && healthJsonQuality >= qualityOf(['application/json', 'application/*', '*/*'])
}

/** The server's role, and on a standby its replay lag, once a check has told them. */
function roleChecks(
  report: HealthCheck,
  problem: PolicyProblem | null,
  policy: ReadinessPolicy,
  time: string,
): Record<string, CheckResult[]> {
  if (!report.role) return {}
  return {
    'postgresql:role': [
      entry({ observedValue: report.role }, time, {
        warn: problem === 'not primary',
        output: 'a standby, and HEALTH_REQUIRE_PRIMARY asks for the primary',
      }),
    ],
    ...(report.role === 'standby' && report.replayLagSeconds !== null
      ? {
          'postgresql:replayLag': [
            entry({ observedValue: report.replayLagSeconds, observedUnit: 's' }, time, {
              warn: problem === 'replica lagging',
              output: `replay lag over HEALTH_MAX_REPLAY_LAG_MS (${policy.maxReplayLagMs} ms)`,
            }),
          ],
        }
      : {}),
  }
}

/** The monitor's latest checks and transitions, newest first (failure reasons included: details only). */
function recentHistory(judged: DampedHealth) {
  return {
    checks: judged.checks.page(HISTORY_SHOWN).entries.map(({ value }) => ({
      time: value.checkedAt.toISOString(),
      healthy: value.healthy,
      latencyMs: value.latencyMs,
      reason: value.reason,
    })),
    transitions: judged.transitions.page(HISTORY_SHOWN).entries.map(({ value }) => ({
      time: value.at.toISOString(),
      healthy: value.healthy,
      latencyMs: value.latencyMs,
      reason: value.reason,
    })),
  }
}
