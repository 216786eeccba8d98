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

/** One entry of `checks`, as the draft names its fields. */
interface CheckResult {
  componentType: 'datastore'
  observedValue?: number
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
 * (application/health+json): pass and warn answer 200, fail answers 503. `output` says why a check is
 * not `pass`, and is left out when it is.
 */
export function healthJson(report: HealthCheck, pool: PoolStats, options: HealthJsonOptions): RestResponse {
  const time = report.checkedAt.toISOString()
  const failure = options.details && report.reason ? report.reason : UNAVAILABLE
  const checks: Record<string, CheckResult[]> = report.healthy
    ? {
        'postgresql:responseTime': [responseTime(report.latencyMs, time, options.warnLatencyMs)],
        'postgresql:connections': [connections(pool, time, options.warnPoolPercent)],
      }
    : {
        // The time a failed check took is the time it took to fail (up to the timeout), not the
        // database's response time: no value is observed. The pool cannot pass while the whole fails.
        'postgresql:responseTime': [{ componentType: 'datastore', status: 'fail', time, output: failure }],
        'postgresql:connections': [
          { ...connections(pool, time, options.warnPoolPercent), status: 'fail', output: failure },
        ],
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
  }
  return {
    status: status === 'fail' ? 503 : 200,
    text: JSON.stringify(body),
    headers: { 'content-type': HEALTH_JSON },
  }
}

function responseTime(latencyMs: number, time: string, warnLatencyMs: number): CheckResult {
  const slow = latencyMs > warnLatencyMs
  return {
    componentType: 'datastore',
    observedValue: latencyMs,
    observedUnit: 'ms',
    status: slow ? 'warn' : 'pass',
    time,
    ...(slow ? { output: `the check took ${latencyMs} ms, more than ${warnLatencyMs} ms` } : {}),
  }
}

function connections(pool: PoolStats, time: string, warnPoolPercent: number): CheckResult {
  const inUse = pool.total - pool.idle
  const percent = pool.max > 0 ? (inUse / pool.max) * 100 : 0
  const full = percent >= warnPoolPercent
  return {
    componentType: 'datastore',
    observedValue: inUse,
    observedUnit: 'connections',
    status: full ? 'warn' : 'pass',
    time,
    ...(full
      ? { output: `${inUse} of ${pool.max} query pool connections in use, ${warnPoolPercent} % or more` }
      : {}),
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
