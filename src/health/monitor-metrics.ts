import { Counter, Gauge, type Registry } from 'prom-client'
import type { HealthCheck } from '../db/database.js'
import type { FailureReason } from '../db/failure-reasons.js'
import type { HealthTransition, UnhealthyReason } from './damping.js'
import type { HealthMonitor } from './monitor.js'

// Every reason a transition to unhealthy can carry: the series exist from the start at 0, so that
// increase() sees the first transition of each kind too (a series born at 1 counts as no increase).
const FAILURE_REASONS: readonly FailureReason[] = [
  'connection refused',
  'timeout',
  'authentication failed',
  'database does not exist',
  'host not found',
  'host unreachable',
  'connection lost',
  'database not accepting connections',
  'too many connections',
  'tls error',
  'database error',
]
const UNHEALTHY_REASONS: readonly UnhealthyReason[] = [...FAILURE_REASONS, 'not primary', 'replica lagging']
/** The reason label of a transition back to healthy. */
const RECOVERED = 'ok'

/** The monitor's judgement as metrics: its transitions, and the server's role and replay lag. */
export function registerMonitorMetrics(registry: Registry, monitor: HealthMonitor): void {
  const transitions = new Counter({
    name: 'db_health_transitions_total',
    help: 'Confirmed changes of the health monitor\u2019s state (readiness follows it), by the state reached and why: reason is the failure or policy for to="unhealthy", "ok" for to="healthy".',
    labelNames: ['to', 'reason'],
    registers: [registry],
  })
  transitions.inc({ to: 'healthy', reason: RECOVERED }, 0)
  for (const reason of UNHEALTHY_REASONS) transitions.inc({ to: 'unhealthy', reason }, 0)

  monitor.on('transition', (_report: HealthCheck, transition: HealthTransition) => {
    transitions.inc({
      to: transition.healthy ? 'healthy' : 'unhealthy',
      reason: transition.reason ?? RECOVERED,
    })
  })

  new Gauge({
    name: 'db_health_last_transition_timestamp_seconds',
    help: 'Unix time of the check that confirmed the health monitor\u2019s latest change of state.',
    registers: [registry],
    collect() {
      const last = monitor.state.transitions.newest()
      if (last) this.set(last.at.getTime() / 1000)
    },
  })

  new Gauge({
    name: 'db_is_standby',
    help: '1 when the database is a standby (pg_is_in_recovery()), 0 on a primary; from the latest successful check.',
    registers: [registry],
    collect() {
      const role = monitor.lastRole
      if (role) this.set(role.role === 'standby' ? 1 : 0)
    },
  })

  new Gauge({
    name: 'db_replay_lag_seconds',
    help: 'How far a standby\u2019s replay is behind, in seconds (0 when all received WAL is replayed, and on a primary); from the latest successful check.',
    registers: [registry],
    collect() {
      const role = monitor.lastRole
      // A standby that has replayed no transaction since it started cannot tell its lag: no sample.
      if (role?.role === 'standby' && role.replayLagSeconds === null) this.reset()
      else if (role) this.set(role.replayLagSeconds ?? 0)
    },
  })
}
