import type { HealthMonitor } from '../health/monitor.js'
import type { RestResponse } from '../http/respond.js'
import type { Lifecycle } from '../lifecycle.js'

/** GET /livez: the process answers, so it is alive. Never touches the database (a restart would not fix it). */
export function getLiveness(): RestResponse {
  return { status: 200, body: { status: 'alive', uptimeSeconds: Math.round(process.uptime()) } }
}

/**
 * GET /readyz: answered at once from the monitor's latest report; 503 while the database is down or the
 * report stale, and from the first moment of shutdown on.
 */
export function getReadiness(monitor: HealthMonitor, lifecycle: Lifecycle): RestResponse {
  if (lifecycle.isShuttingDown) return { status: 503, body: { status: 'not ready', reason: 'shutting down' } }
  const readiness = monitor.readiness()
  if (readiness.ready) return { status: 200, body: { status: 'ready' } }
  return { status: 503, body: { status: 'not ready', reason: readiness.reason } }
}
