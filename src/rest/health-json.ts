import type { Database, HealthCheck, PoolStats } from '../db/database.js'
import type { DampedHealth } from '../health/damped-state.js'
import type { HealthMonitor } from '../health/monitor.js'
import { policyProblem, type ReadinessPolicy } from '../health/policy.js'
import type { RestResponse } from '../http/respond.js'

export const HEALTH_JSON = 'application/health+json'

export interface HealthJsonOptions {
  containerName: string
  policy: ReadinessPolicy
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

/**
 * The detailed report in the IETF "Health Check Response Format for HTTP APIs" draft
 * (application/health+json): pass and warn answer 200, fail answers 503. `fail` is this check, now (as
 * /health); `warn` is the monitor's judgement, set only after HEALTH_CHECKS_BEFORE_WARN slow or saturated
 * checks in a row, so one slow answer does not raise it. A role the readiness policy rejects warns too.
 */
export function healthJson(
  report: HealthCheck,
  pool: PoolStats,
  judged: DampedHealth,
  options: HealthJsonOptions,
): RestResponse {
  const time = report.checkedAt.toISOString()
  const inUse = pool.total - pool.idle

  const latencyStatus: Status = !report.healthy ? 'fail' : judged.isWarning('slow') ? 'warn' : 'pass'
  const poolStatus: Status = judged.isWarning('saturated') ? 'warn' : 'pass'
  const problem = policyProblem(report, options.policy)
  const role = roleChecks(report, problem, time)
  const status: Status = !report.healthy
    ? 'fail'
    : latencyStatus === 'warn' || poolStatus === 'warn' || problem
      ? 'warn'
      : 'pass'
  const output = options.details && report.reason ? { output: report.reason } : {}

  const body = {
    status,
    serviceId: options.containerName,
    description: 'ctera-app: can the service reach its PostgreSQL database?',
    ...(options.details ? { version: options.version.split('.')[0], releaseId: options.version } : {}),
    ...output,
    checks: {
      'postgresql:responseTime': [
        {
          componentType: 'datastore',
          observedValue: report.latencyMs,
          observedUnit: 'ms',
          status: latencyStatus,
          time,
          ...output,
        },
      ],
      'postgresql:connections': [
        {
          componentType: 'datastore',
          observedValue: inUse,
          observedUnit: 'connections',
          status: poolStatus,
          time,
          ...(options.details ? { output: `${inUse} of ${pool.max} pool connections in use` } : {}),
        },
      ],
      ...role,
    },
    ...(options.details ? { history: recentHistory(judged) } : {}),
  }
  return {
    status: status === 'fail' ? 503 : 200,
    text: JSON.stringify(body),
    headers: { 'content-type': HEALTH_JSON },
  }
}

/** True when the client asks for application/health+json (and does not refuse it with q=0). */
export function wantsHealthJson(accept: string | undefined): boolean {
  if (!accept) return false
  return accept
    .toLowerCase()
    .split(',')
    .some((part) => {
      const [type, ...params] = part.split(';').map((piece) => piece.trim())
      const refused = params.some((param) => /^q=0(\.0*)?$/.test(param))
      return type === HEALTH_JSON && !refused
    })
}

/** The server's role, and on a standby its replay lag, once a check has told them. */
function roleChecks(report: HealthCheck, problem: string | null, time: string) {
  if (!report.role) return {}
  const common = { componentType: 'datastore', time }
  return {
    'postgresql:role': [
      { ...common, observedValue: report.role, status: problem === 'not primary' ? 'warn' : 'pass' },
    ],
    ...(report.role === 'standby' && report.replayLagSeconds !== null
      ? {
          'postgresql:replayLag': [
            {
              ...common,
              observedValue: report.replayLagSeconds,
              observedUnit: 's',
              status: problem === 'replica lagging' ? 'warn' : 'pass',
            },
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
