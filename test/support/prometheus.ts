import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { findFreePort } from '../../src/net/free-port.js'

export interface PrometheusSample {
  metric: Record<string, string>
  value: [number, string]
}
export interface PrometheusAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: 'pending' | 'firing'
}

export interface RunningPrometheus {
  /** An instant query through the HTTP API; throws with Prometheus's message when it refuses the query. */
  query(promql: string): Promise<PrometheusSample[]>
  alerts(): Promise<PrometheusAlert[]>
  /** Each target's job, health and last scrape error, as the targets API tells them. */
  targets(): Promise<Array<{ job: string; health: string; lastError: string }>>
  stop(): Promise<void>
}

/**
 * A real Prometheus server (Debian package `prometheus`, as .ci/run installs it) on 127.0.0.1, scraping
 * `targets` (host:port) every second as job `job` and evaluating `ruleFiles` every second.
 * `moreScrapeConfigs` are added to prometheus.yml's scrape_configs as they are.
 */
export async function startPrometheus(options: {
  job: string
  targets: string[]
  ruleFiles: string[]
  /** Default 1s; also each scrape's timeout. */
  scrapeInterval?: string
  moreScrapeConfigs?: Array<Record<string, unknown>>
}): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'ctera-test-prometheus-'))
  const config = {
    global: { scrape_interval: options.scrapeInterval ?? '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    scrape_configs: [
      { job_name: options.job, static_configs: [{ targets: options.targets }] },
      ...(options.moreScrapeConfigs ?? []),
    ],
  }
  await writeFile(join(dir, 'prometheus.yml'), stringify(config))
  const address = `127.0.0.1:${await findFreePort()}`
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr.on('data', (chunk: Buffer) => {
    log = `${log}${chunk}`.slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const failedToStart = new Promise<never>((_, reject) =>
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('prometheus is not installed (Debian: apt-get install prometheus)')
          : error,
      ),
    ),
  )

  async function api<T>(path: string): Promise<T> {
    const body = (await (await fetch(`http://${address}${path}`)).json()) as {
      status: string
      data: T
      error?: string
    }
    if (body.status !== 'success') throw new Error(`Prometheus refused ${path}: ${body.error}`)
    return body.data
  }

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }

  const ready = (async () => {
    for (let attempt = 0; attempt < 300; attempt++) {
      if (child.exitCode !== null) throw new Error(`prometheus exited at start: ${log}`)
      const status = await fetch(`http://${address}/-/ready`).then(
        (response) => response.status,
        () => 0,
      )
      if (status === 200) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`prometheus not ready after 30 s: ${log}`)
  })()
  try {
    await Promise.race([ready, failedToStart])
  } catch (error) {
    await stop()
    throw error
  }

  return {
    query: async (promql) =>
      (await api<{ result: PrometheusSample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result,
    alerts: async () => (await api<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts,
    targets: async () =>
      (
        await api<{
          activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }>
        }>('/api/v1/targets')
      ).activeTargets.map((target) => ({
        job: target.labels.job ?? '',
        health: target.health,
        lastError: target.lastError,
      })),
    stop,
  }
}
