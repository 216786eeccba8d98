import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../support/dockerfile.js'
import { type RunningPrometheus, startPrometheus } from '../support/prometheus.js'
import { type RunningService, startService } from '../support/service.js'

// A real Prometheus scrapes a service that has a bearer token, with the job of deploy/monitoring/prometheus.yml
// as shipped (only the token file's path and the target changed), and with the same job without the token.
const postgres = inject('postgres')
const TOKEN = randomBytes(32).toString('hex')
const dir = mkdtempSync(join(tmpdir(), 'ctera-test-scrape-token-'))
let service: RunningService
let prometheus: RunningPrometheus

interface ScrapeConfig {
  job_name: string
  authorization?: { type: string; credentials_file: string }
  static_configs: Array<{ targets: string[] }>
  [key: string]: unknown
}
const shipped = parse(readFileSync(resolve(ROOT, 'deploy/monitoring/prometheus.yml'), 'utf8')) as {
  scrape_configs: ScrapeConfig[]
}

beforeAll(async () => {
  service = await startService(postgres.app, { authToken: TOKEN })
  const tokenFile = join(dir, 'token')
  // As `echo "$token" > file` writes it: Prometheus trims the newline, as the service does.
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
  const [job] = shipped.scrape_configs
  if (!job?.authorization) throw new Error('deploy/monitoring/prometheus.yml has no job with authorization')
  const target = { static_configs: [{ targets: [`127.0.0.1:${service.port}`] }], scrape_interval: '1s' }
  prometheus = await startPrometheus({
    job: 'without-token',
    targets: [`127.0.0.1:${service.port}`],
    ruleFiles: [],
    moreScrapeConfigs: [
      { ...job, ...target, authorization: { ...job.authorization, credentials_file: tokenFile } },
    ],
  })
})
afterAll(async () => {
  await prometheus?.stop()
  await service?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('Prometheus scraping a service that asks for a bearer token', () => {
  it('the shipped job sends it from credentials_file: up, and the samples are there', async () => {
    const [job] = shipped.scrape_configs
    let up: string | undefined
    let dbUp: string | undefined
    for (let attempt = 0; attempt < 120 && !(up === '1' && dbUp === '1'); attempt++) {
      await new Promise((wait) => setTimeout(wait, 500))
      up = (await prometheus.query('up{job="ctera-app"}'))[0]?.value[1]
      dbUp = (await prometheus.query('db_up{job="ctera-app"}'))[0]?.value[1]
    }

    expect(job?.job_name).toBe('ctera-app')
    expect(job?.authorization?.type).toBe('Bearer')
    expect(up).toBe('1')
    expect(dbUp).toBe('1')
  })

  it('the same job without the token is refused with 401, so its target is down', async () => {
    let target: { health: string; lastError: string } | undefined
    for (let attempt = 0; attempt < 120 && target?.health !== 'down'; attempt++) {
      await new Promise((wait) => setTimeout(wait, 500))
      target = (await prometheus.targets()).find((candidate) => candidate.job === 'without-token')
    }

    expect(target?.health).toBe('down')
    expect(target?.lastError).toContain('401')
    expect((await prometheus.query('up{job="without-token"}'))[0]?.value[1]).toBe('0')
  })

  it('the token is in none of the service\u2019s log lines', () => {
    expect(service.rawLogs.length).toBeGreaterThan(0)
    expect(service.rawLogs.join('\n')).not.toContain(TOKEN)
  })
})
