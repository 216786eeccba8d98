import type { HealthMonitor } from '../health/monitor.js'
import type { RestResponse } from '../http/respond.js'

/** GET /livez: the process answers, so it is alive. Never touches the database (a restart would not fix it). */
export function getLiveness(): RestResponse {
  return { status: 200, body: { status: 'alive', uptimeSeconds: Math.round(process.uptime()) } }
}

/** GET /readyz: from the monitor's latest report, answered at once; 503 while down, stale or shutting down. */
export function getReadiness(monitor: HealthMonitor): RestResponse {
  const readiness = monitor.readiness()
  if (readiness.ready) return { status: 200, body: { status: 'ready' } }
  return { status: 503, body: { status: 'not ready', reason: readiness.reason } }
}
