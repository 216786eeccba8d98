import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { onPlan, type Row } from '../../bench/capacity.js'

const ROOT = resolve(import.meta.dirname, '../..')

describe('the capacity simulation (npm run capacity -- --short)', () => {
  it('runs 1 and 2 real service processes against one PostgreSQL and finds the database load on plan', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/capacity.ts', '--short'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    })
    const rows = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row)
    console.log(
      run.stderr
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .join('\n'),
    )

    expect(run.status, run.stderr).toBe(0)
    expect(rows.map((row) => row.replicas)).toEqual([1, 2])
    for (const row of rows) {
      expect(onPlan(row), JSON.stringify(row)).toBe(true)
      expect(row.probeRequestsPerSecond).toBeGreaterThan(row.probeQueriesPerSecond * 10) // probes never reach the database
      expect(row.connections).toBeGreaterThanOrEqual(row.replicas) // each replica holds its health connection
    }
  }, 240_000)

  it('CAPACITY.md carries the measured table from a full run', () => {
    const capacity = readFileSync(resolve(ROOT, 'CAPACITY.md'), 'utf8')
    const measured = capacity.slice(
      capacity.indexOf('<!-- simulation:start -->'),
      capacity.indexOf('<!-- simulation:end -->'),
    )

    for (const replicas of [1, 2, 4, 8])
      expect(measured).toMatch(new RegExp(`^\\| ${replicas} \\| \\d+ \\|`, 'm'))
    expect(measured).not.toContain('**no**')
  })

  it('the plan check can fail: a replica over its connection budget is off plan', () => {
    const row: Row = {
      replicas: 2,
      probeRequestsPerSecond: 80,
      probeQueriesPerSecond: 2,
      plannedProbeQueriesPerSecond: 2,
      tableRequestsPerSecond: 100,
      connections: 9,
      plannedConnections: 8,
    }

    expect(onPlan(row)).toBe(false)
    expect(onPlan({ ...row, connections: 8 })).toBe(true)
    expect(onPlan({ ...row, connections: 8, probeQueriesPerSecond: 40 })).toBe(false)
  })
})
