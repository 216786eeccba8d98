import type { Database, HealthCheck, PoolStats } from '../db/database.js'
import type { HealthMonitor } from '../health/monitor.js'
import type { RestResponse } from '../http/respond.js'

export const HEALTH_JSON = 'application/health+json'

export interface HealthJsonOptions {
  containerName: string
  warnLatencyMs: number
  warnPoolPercent: number
  /** Versions and failure reasons help an attacker; they are shown only when this is on. */
  details: boolean
  version: string
}

type Status = 'pass' | 'warn' | 'fail'

/** GET /healthz, and GET /health asking for health+json: checks now, through the monitor. */
export async function getHealthJson(
  monitor: HealthMonitor,
  db: Pick<Database, 'poolStats'>,
  options: HealthJsonOptions,
): Promise<RestResponse> {
  return healthJson(await monitor.check(), db.poolStats().queries, options)
}

/**
 * The detailed report in the IETF "Health Check Response Format for HTTP APIs" draft
 * (application/health+json): pass and warn answer 200, fail answers 503.
 */
export function healthJson(report: HealthCheck, pool: PoolStats, options: HealthJsonOptions): RestResponse {
  const time = report.checkedAt.toISOString()
  const inUse = pool.total - pool.idle
  const poolPercent = pool.max > 0 ? (inUse / pool.max) * 100 : 0

  const latencyStatus: Status = !report.healthy
    ? 'fail'
    : report.latencyMs > options.warnLatencyMs
      ? 'warn'
      : 'pass'
  const poolStatus: Status = poolPercent >= options.warnPoolPercent ? 'warn' : 'pass'
  const status: Status = !report.healthy
    ? 'fail'
    : latencyStatus === 'warn' || poolStatus === 'warn'
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
    },
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
