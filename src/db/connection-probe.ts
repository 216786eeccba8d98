import type pg from 'pg'
import type { HealthCheck } from './database.js'
import { classifyFailure, DatabaseUnavailableError, type FailureReason } from './failure-reasons.js'
import { withConnection } from './query.js'
import { createRoleQuery, type RoleReport } from './role.js'
import { singleFlight } from './single-flight.js'

export interface HealthCheckOptions {
  timeoutMs: number
  /** 0 = always live; above 0, a result this young is served again without touching the database. */
  cacheMs: number
}

// While the database is down every check would try a new connection; a storm of probes must not turn
// into a storm of connection attempts (each one a process forked on the server), so a failure is
// served again for this long. The monitor's first retry comes no sooner.
const FAILURE_REUSE_MS = 250

/**
 * Returns a health check that never throws and never takes longer than timeoutMs. Calls that arrive
 * while a probe is in flight share it, so a probe storm costs the database one query at a time.
 */
export function createHealthCheck(pool: pg.Pool, options: HealthCheckOptions): () => Promise<HealthCheck> {
  let last: HealthCheck | undefined
  const askServer = createRoleQuery(options.timeoutMs)

  async function probe(): Promise<HealthCheck> {
    const checkedAt = new Date()
    const started = performance.now()
    let reason: FailureReason | null = null
    let role: RoleReport | null = null
    try {
      role = await withDeadline(
        withConnection(pool, (client) => askServer(client)),
        options.timeoutMs,
      )
    } catch (error) {
      reason = classifyFailure(error)
    }
    const latencyMs = Math.round((performance.now() - started) * 100) / 100
    last = {
      healthy: reason === null,
      latencyMs,
      checkedAt,
      reason,
      role: role?.role ?? null,
      replayLagSeconds: role?.replayLagSeconds ?? null,
    }
    return last
  }

  const probeOnce = singleFlight(probe)
  return () => {
    const reuseMs = last?.healthy ? options.cacheMs : Math.max(options.cacheMs, FAILURE_REUSE_MS)
    if (last && reuseMs > 0 && Date.now() - last.checkedAt.getTime() < reuseMs) return Promise.resolve(last)
    return probeOnce(undefined)
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError('timeout')), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
