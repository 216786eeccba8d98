import { describe, expect, it } from 'vitest'
import type { HealthCheck } from '../../src/db/database.js'
import { DampedHealth, Damper, type DampingOptions, NO_DAMPING } from '../../src/health/damping.js'
import { policyProblem } from '../../src/health/policy.js'

let clock = Date.parse('2026-01-01T00:00:00Z')

function check(healthy: boolean, extra: Partial<HealthCheck> = {}): HealthCheck {
  clock += 1000
  return {
    healthy,
    latencyMs: 2,
    checkedAt: new Date(clock),
    reason: healthy ? null : 'connection refused',
    role: healthy ? 'primary' : null,
    replayLagSeconds: null,
    ...extra,
  }
}

const options = (changes: Partial<DampingOptions> = {}): DampingOptions => ({
  ...NO_DAMPING,
  failuresBeforeUnhealthy: 3,
  successesBeforeHealthy: 2,
  checksBeforeWarn: 3,
  warnLatencyMs: 100,
  warnPoolPercent: 80,
  ...changes,
})

describe('Damper', () => {
  it('takes its first state from the first observation, then changes only after N in a row', () => {
    const damper = new Damper(3, 2)

    expect(damper.state).toBeUndefined()
    expect(damper.observe(true)).toBe(true)
    expect([damper.observe(false), damper.observe(false)]).toEqual([false, false])
    expect(damper.pending).toBe(2)
    expect(damper.state).toBe(true)
    expect(damper.observe(false)).toBe(true)
    expect(damper.state).toBe(false)
    expect(damper.observe(true)).toBe(false)
    expect(damper.observe(true)).toBe(true)
    expect(damper.state).toBe(true)
  })

  it('starts over when an observation agrees with the state: the failures must be consecutive', () => {
    const damper = new Damper(3, 1, true)

    for (const value of [false, false, true, false, false, true, false, false]) damper.observe(value)

    expect(damper.state).toBe(true)
    expect(damper.pending).toBe(2)
  })

  it('refuses thresholds below 1', () => {
    expect(() => new Damper(0, 1)).toThrow(RangeError)
  })
})

describe('DampedHealth: the monitor judgement', () => {
  it('is healthy after the first good check, and unhealthy only after HEALTH_FAILURES_BEFORE_UNREADY failures', () => {
    const judged = new DampedHealth(options())

    const first = judged.observe(check(true), 0)
    const failures = [1, 2, 3].map(() => judged.observe(check(false), 0))

    expect(first.transition).toMatchObject({ healthy: true, reason: null })
    expect(failures.map((seen) => seen.transition?.healthy)).toEqual([undefined, undefined, false])
    expect(failures[2]?.transition?.reason).toBe('connection refused')
    expect(judged.reason).toBe('connection refused')
  })

  it('ignores a blip shorter than the threshold: no transition, nothing in the transitions list', () => {
    const judged = new DampedHealth(options())

    for (const healthy of [true, false, false, true, false, false, true]) judged.observe(check(healthy), 0)

    expect(judged.healthy).toBe(true)
    expect(judged.transitions.size).toBe(1)
    expect(judged.checks.size).toBe(7)
  })

  it('turns healthy again after HEALTH_SUCCESSES_BEFORE_READY good checks', () => {
    const judged = new DampedHealth(options({ failuresBeforeUnhealthy: 1 }))
    judged.observe(check(false), 0)

    const firstGood = judged.observe(check(true), 0)
    const secondGood = judged.observe(check(true), 0)

    expect(firstGood.transition).toBeUndefined()
    expect(secondGood.transition).toMatchObject({ healthy: true, reason: null })
    expect(judged.transitions.page(10).entries.map((entry) => entry.value.healthy)).toEqual([true, false])
  })

  it('counts a report shared by several callers once', () => {
    const judged = new DampedHealth(options())
    judged.observe(check(true), 0)
    const failure = check(false)

    for (let i = 0; i < 5; i++) judged.observe(failure, 0)

    expect(judged.healthy).toBe(true)
    expect(judged.confirming).toBe(1)
    expect(judged.checks.size).toBe(2)
  })

  it('warns after HEALTH_CHECKS_BEFORE_WARN slow checks in a row, and clears after as many fast ones', () => {
    const judged = new DampedHealth(options())
    const slow = () => judged.observe(check(true, { latencyMs: 150 }), 0)
    const fast = () => judged.observe(check(true, { latencyMs: 5 }), 0)

    const changes = [slow(), slow(), fast(), slow(), slow()].flatMap((seen) => seen.warnChanges)
    expect(changes).toEqual([])
    expect(judged.isWarning('slow')).toBe(false)

    expect(slow().warnChanges).toEqual([{ cause: 'slow', on: true }])
    expect(judged.isWarning('slow')).toBe(true)
    expect([fast(), fast()].flatMap((seen) => seen.warnChanges)).toEqual([])
    expect(fast().warnChanges).toEqual([{ cause: 'slow', on: false }])
  })

  it('warns for a saturated pool the same way, and a failed check says nothing about speed', () => {
    const judged = new DampedHealth(options({ failuresBeforeUnhealthy: 10 }))

    for (let i = 0; i < 3; i++) judged.observe(check(false, { latencyMs: 2000 }), 90)

    expect(judged.isWarning('saturated')).toBe(true)
    expect(judged.isWarning('slow')).toBe(false)
  })

  it('counts a standby as unhealthy under HEALTH_REQUIRE_PRIMARY, damped like a failure', () => {
    const judged = new DampedHealth(
      options({ failuresBeforeUnhealthy: 2, policy: { requirePrimary: true, maxReplayLagMs: 0 } }),
    )
    judged.observe(check(true), 0)

    judged.observe(check(true, { role: 'standby', replayLagSeconds: 0 }), 0)
    const second = judged.observe(check(true, { role: 'standby', replayLagSeconds: 0 }), 0)

    expect(second.transition).toMatchObject({ healthy: false, reason: 'not primary' })
  })

  it('keeps memory bounded: 100,000 checks through a ring of 120 leave 120 checks and 120 transitions', () => {
    const judged = new DampedHealth(
      options({ historySize: 120, failuresBeforeUnhealthy: 1, successesBeforeHealthy: 1 }),
    )

    for (let i = 0; i < 100_000; i++) judged.observe(check(i % 2 === 0), i % 100)

    expect(judged.checks.size).toBe(120)
    expect(judged.transitions.size).toBe(120)
    expect(judged.checks.lastSequence).toBe(100_000)
    expect(judged.transitions.lastSequence).toBe(100_000)
    // The slots array itself never grows.
    expect((judged.checks as unknown as { slots: unknown[] }).slots).toHaveLength(120)
    const newest = judged.checks.page(1).entries[0]
    expect(newest?.sequence).toBe(100_000)
  })
})

describe('readiness policies', () => {
  const standby = (lag: number | null) => check(true, { role: 'standby', replayLagSeconds: lag })

  it('are off by default: a standby of any lag passes', () => {
    expect(policyProblem(standby(3600), { requirePrimary: false, maxReplayLagMs: 0 })).toBeNull()
  })

  it('HEALTH_MAX_REPLAY_LAG_MS: a standby further behind is "replica lagging"; an unknown lag is not held against it', () => {
    const policy = { requirePrimary: false, maxReplayLagMs: 5000 }

    expect(policyProblem(standby(5.001), policy)).toBe('replica lagging')
    expect(policyProblem(standby(5), policy)).toBeNull()
    expect(policyProblem(standby(null), policy)).toBeNull()
    expect(policyProblem(check(true), policy)).toBeNull()
  })

  it('HEALTH_REQUIRE_PRIMARY: any standby is "not primary"; a failed check is a failure, not a policy matter', () => {
    const policy = { requirePrimary: true, maxReplayLagMs: 0 }

    expect(policyProblem(standby(0), policy)).toBe('not primary')
    expect(policyProblem(check(false), policy)).toBeNull()
  })
})
