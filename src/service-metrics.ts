import { setTimeout as sleep } from 'node:timers/promises'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Database } from './db/database.js'
import type { HealthMonitor } from './health/monitor.js'
import { registerMonitorMetrics } from './health/monitor-metrics.js'

const TABLE_COUNT_TIMEOUT_MS = 1000
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

export interface Metrics {
  registry: Registry
  observeRequest(method: string | undefined, route: string, status: number, seconds: number): void
  /**
   * Exports these requests' series at 0 before any is seen, so that the first error is a change that
   * rate() and increase() can see (a series that appears with its first sample shows no increase).
   */
  initialiseRequests(requests: ReadonlyArray<KnownRequest>): void
}

export interface KnownRequest {
  method: string
  route: string
  status: number
}

/**
 * The service's Prometheus metrics, in a registry of its own (no global state, one per app). Every
 * label value comes from a fixed set, so no client can grow the number of series.
 */
export function createMetrics(
  db: Database,
  monitor: HealthMonitor,
  { showVersions }: { showVersions: boolean },
): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Versions tell an attacker which flaws to try: Node's only with HEALTH_DETAILS, as for health+json.
  if (!showVersions) registry.removeSingleMetric('nodejs_version_info')
  // prom-client names these gauges with a counter's `_total` suffix (promtool rejects that); the same
  // numbers stay available per type as nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
  for (const misnamed of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(misnamed)
  }

  new Gauge({
    name: 'db_up',
    help: '1 when the latest database health check succeeded, else 0 (also 0 before the first check).',
    registers: [registry],
    collect() {
      this.set(monitor.latest?.healthy ? 1 : 0)
    },
  })

  const checkDuration = new Histogram({
    name: 'db_health_check_duration_seconds',
    help: 'How long database health checks took, by result.',
    labelNames: ['result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  monitor.on('report', (report) =>
    checkDuration.observe({ result: report.healthy ? 'healthy' : 'unhealthy' }, report.latencyMs / 1000),
  )

  new Gauge({
    name: 'db_health_last_success_timestamp_seconds',
    help: 'Unix time of the start of the last successful database health check.',
    registers: [registry],
    collect() {
      if (monitor.lastSuccessAt) this.set(monitor.lastSuccessAt.getTime() / 1000)
    },
  })

  registerMonitorMetrics(registry, monitor)

  // Open connections split into in use and idle, so that sum() over state is the number open. Limits
  // and waiting requests are not connections: they are metrics of their own.
  new Gauge({
    name: 'db_pool_connections',
    help: 'Open connections of the query pool and of the health-check pool, by state: in use or idle.',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      for (const [pool, stats] of Object.entries(db.poolStats())) {
        this.set({ pool, state: 'in_use' }, stats.total - stats.idle)
        this.set({ pool, state: 'idle' }, stats.idle)
      }
    },
  })

  new Gauge({
    name: 'db_pool_max_connections',
    help: 'The most connections each pool may open (DB_POOL_MAX for the query pool).',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      for (const [pool, stats] of Object.entries(db.poolStats())) this.set({ pool }, stats.max)
    },
  })

  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Requests waiting for a connection of each pool because every one is in use.',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      for (const [pool, stats] of Object.entries(db.poolStats())) this.set({ pool }, stats.waiting)
    },
  })

  // The count is taken on scrape, and only while the database is up: while it is down, db_tables keeps
  // the last count and its timestamp says how old that is. prom-client collects all metrics of a scrape
  // at once: the timestamp waits for this scrape's count, so the two always match.
  let tables = { count: 0, countedAt: 0 }
  let counting: Promise<void> = Promise.resolve()
  const countTables = async () => {
    if (!monitor.latest?.healthy) return
    // A slow database must not hold the scrape: keep the previous value after a second.
    const count = await Promise.race([
      db.countTables({ includeSystem: true }).catch(() => undefined),
      sleep(TABLE_COUNT_TIMEOUT_MS, undefined, { ref: false }),
    ])
    if (count !== undefined) tables = { count, countedAt: Date.now() / 1000 }
  }
  new Gauge({
    name: 'db_tables',
    help: 'The number of tables (the seed count: information_schema.tables) at db_tables_last_success_timestamp_seconds.',
    registers: [registry],
    async collect() {
      counting = countTables()
      await counting
      this.set(tables.count)
    },
  })
  new Gauge({
    name: 'db_tables_last_success_timestamp_seconds',
    help: 'Unix time of the last successful count behind db_tables (0: never counted).',
    registers: [registry],
    async collect() {
      await counting
      this.set(tables.countedAt)
    },
  })

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })

  // One child per series, kept: observing through it skips prom-client's label hashing on every request.
  // Bounded: methods, routes and statuses each come from a fixed set.
  const series = new Map<string, { observe(seconds: number): void }>()
  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const label = method && KNOWN_METHODS.has(method) ? method : 'other'
      const key = `${label} ${route} ${status}`
      let child = series.get(key)
      if (!child) {
        child = requestDuration.labels({ method: label, route, status: String(status) })
        series.set(key, child)
      }
      child.observe(seconds)
    },
    initialiseRequests(requests) {
      for (const { method, route, status } of requests)
        requestDuration.zero({ method, route, status: String(status) })
    },
  }
}
