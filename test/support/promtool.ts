import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'

export interface PromtoolResult {
  status: number | null
  /** stdout and stderr together: promtool prints its failures on stderr. */
  output: string
}

/** Runs Prometheus's own checker (Debian package `prometheus`, which .ci/run installs). */
export function promtool(args: string[]): PromtoolResult {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 })
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error('promtool is not installed (Debian: apt-get install prometheus)')
  if (run.error) throw run.error
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

/**
 * Parses each expression with Prometheus's own parser: promtool has no offline "parse this query", so
 * each one becomes a recording rule (named after its key) in a throw-away rule file for `check rules`.
 */
export function checkExpressions(expressions: Record<string, string>): PromtoolResult {
  const dir = mkdtempSync(join(tmpdir(), 'promql-'))
  try {
    const file = join(dir, 'expressions.yaml')
    const rules = Object.entries(expressions).map(([record, expr]) => ({ record, expr }))
    writeFileSync(file, stringify({ groups: [{ name: 'expressions', rules }] }))
    return promtool(['check', 'rules', file])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
