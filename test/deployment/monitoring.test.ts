import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { type DashboardQuery, dashboardQueries, GRAFANA_VALUES, readDashboard } from '../support/dashboard.js'
import { ROOT } from '../support/dockerfile.js'
import { type Exposition, parseExposition, problemsWith } from '../support/promql.js'
import { checkExpressions, promtool } from '../support/promtool.js'
import { type RunningService, startService } from '../support/service.js'

const MONITORING = resolve(ROOT, 'deploy/monitoring')
const ALERTS = join(MONITORING, 'alerts.yaml')
const ALERT_TESTS = join(MONITORING, 'alerts.test.yaml')

interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}
interface UnitTests {
  tests: Array<{ name: string; alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>
}
const rules = (
  parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }
).groups.flatMap((group) => group.rules)

const { dashboard, panels } = readDashboard()

/** Grafana's way to say "the data source the viewer picked", so the dashboard imports into any Grafana. */
const DATASOURCE_VARIABLE = `\${datasource}`

/** A copy of deploy/monitoring in a temporary folder, with one file changed, for the negative controls. */
function runUnitTestsWith(file: 'alerts.yaml' | 'alerts.test.yaml', change: (text: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-'))
  try {
    for (const name of ['alerts.yaml', 'alerts.test.yaml'])
      copyFileSync(join(MONITORING, name), join(dir, name))
    const original = readFileSync(join(dir, file), 'utf8')
    const changed = change(original)
    expect(changed, 'the change must change something').not.toBe(original)
    writeFileSync(join(dir, file), changed)
    return promtool(['test', 'rules', join(dir, 'alerts.test.yaml')])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('alerting rules (deploy/monitoring/alerts.yaml)', () => {
  it('pass promtool check rules', () => {
    const check = promtool(['check', 'rules', ALERTS])

    expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(check.status).toBe(0)
  })

  it('pass their promtool unit tests (alerts.test.yaml): which alerts fire, when, with what text', () => {
    const run = promtool(['test', 'rules', ALERT_TESTS])

    expect(run.output).toContain('SUCCESS')
    expect(run.status).toBe(0)
  })

  it('cover database down, flapping, slow, pool saturation, replica lag and scrape missing, each with severity and text', () => {
    expect(rules.map((rule) => rule.alert)).toEqual([
      'CteraAppDatabaseDown',
      'CteraAppDatabaseFlapping',
      'CteraAppDatabaseSlow',
      'CteraAppPoolSaturated',
      'CteraAppReplicaLagging',
      'CteraAppTargetDown',
      'CteraAppTargetMissing',
    ])
    expect(rules.find((rule) => rule.alert === 'CteraAppDatabaseDown')?.for).toBe('1m')
    expect(rules.find((rule) => rule.alert === 'CteraAppDatabaseFlapping')?.expr).toContain(
      'increase(db_health_transitions_total{job="ctera-app"}[15m])',
    )
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity)
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(['description', 'summary'])
      expect(rule.expr, `${rule.alert} selects the service's job`).toContain('job="ctera-app"')
    }
  })

  it('each alert has a unit test where it fires and one where it must not', () => {
    const cases = (parse(readFileSync(ALERT_TESTS, 'utf8')) as UnitTests).tests.flatMap(
      (test) => test.alert_rule_test,
    )

    for (const { alert } of rules) {
      const mine = cases.filter((assertion) => assertion.alertname === alert)
      expect(
        mine.some((assertion) => assertion.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true)
      expect(
        mine.some((assertion) => assertion.exp_alerts.length === 0),
        `${alert} stays quiet somewhere`,
      ).toBe(true)
    }
  })

  it('the unit tests can fail: a database-down rule that waits 2 minutes instead of 1 fails them', () => {
    const run = runUnitTestsWith('alerts.yaml', (text) => text.replace('for: 1m', 'for: 2m'))

    expect(run.status).not.toBe(0)
    expect(run.output).toContain('alertname: CteraAppDatabaseDown, time: 2m')
  })

  it('the unit tests can fail: flapping at 3 transitions fires where three changes must stay quiet', () => {
    const run = runUnitTestsWith('alerts.yaml', (text) => text.replace('[15m])) >= 4', '[15m])) >= 3'))

    expect(run.status).not.toBe(0)
    expect(run.output).toContain('alertname: CteraAppDatabaseFlapping')
  })

  it('the unit tests can fail: a replica-lag rule that waits 2 minutes fires too early', () => {
    const run = runUnitTestsWith('alerts.yaml', (text) => text.replace('for: 3m', 'for: 2m'))

    expect(run.status).not.toBe(0)
    expect(run.output).toContain('alertname: CteraAppReplicaLagging, time: 3m45s')
  })

  it('the unit tests can fail: a pool rule at 95 % misses the 90 % case', () => {
    const run = runUnitTestsWith('alerts.yaml', (text) => text.replace('>= 0.8', '>= 0.95'))

    expect(run.status).not.toBe(0)
    expect(run.output).toContain('alertname: CteraAppPoolSaturated')
  })

  it('the unit tests can fail: expecting database down after 45 seconds is refuted', () => {
    const run = runUnitTestsWith('alerts.test.yaml', (text) => {
      const tests = parse(text) as UnitTests
      const early = tests.tests[0]?.alert_rule_test[0]
      const firing = tests.tests[0]?.alert_rule_test[1]
      if (!early || !firing) throw new Error('alerts.test.yaml lost its first case')
      early.exp_alerts = firing.exp_alerts
      return stringify(tests)
    })

    expect(run.status).not.toBe(0)
    expect(run.output).toContain('alertname: CteraAppDatabaseDown, time: 1m45s')
  })
})

describe('Grafana dashboard (deploy/monitoring/grafana-dashboard.json)', () => {
  it('has panels that each query Prometheus through the data source variable, laid out on the 24-column grid', () => {
    const ids = dashboard.panels.map((panel) => panel.id)

    expect(dashboard.uid).toBe('ctera-app')
    expect(new Set(ids).size).toBe(ids.length)
    expect(panels.length).toBeGreaterThanOrEqual(10)
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_VARIABLE })
      for (const target of panel.targets ?? [])
        expect(target.datasource.uid, panel.title).toBe(DATASOURCE_VARIABLE)
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
    }
  })

  it('uses only the Grafana variables it defines', () => {
    const defined = new Set(dashboard.templating.list.map((variable) => variable.name))
    const used = new Set(
      JSON.stringify(dashboard.panels)
        .match(/\$\{?\w+/g)
        ?.map((variable) => variable.replace(/^\$\{?/, '')),
    )

    for (const name of used) expect(defined.has(name) || name.startsWith('__'), name).toBe(true)
    for (const name of used) if (name.startsWith('__')) expect(GRAFANA_VALUES, name).toHaveProperty(name)
    expect([...defined].sort()).toEqual(['datasource', 'instance', 'job'])
  })

  it('every query parses with promtool (Prometheus own parser)', () => {
    const queries = dashboardQueries()

    const check = checkExpressions(
      Object.fromEntries(Object.entries(queries).map(([record, query]) => [record, query.expr])),
    )

    expect(Object.keys(queries).length).toBeGreaterThanOrEqual(panels.length)
    expect(check.output).toContain(`SUCCESS: ${Object.keys(queries).length} rules found`)
    expect(check.status).toBe(0)
  })

  it('the parse check can fail: an unclosed call is reported with its name', () => {
    const check = checkExpressions({ 'dashboard:broken': 'rate(db_up[5m]' })

    expect(check.status).not.toBe(0)
    expect(check.output).toContain('dashboard:broken')
  })
})

describe('names used by the alerts and the dashboard, against the live /metrics of the service', () => {
  let service: RunningService
  let exposition: Exposition

  beforeAll(async () => {
    service = await startService(inject('postgres').app, { healthIntervalMs: 500 })
    // One of each kind of request, so that every labelled series the dashboard uses exists.
    await fetch(`${service.url}/health`)
    await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ numberOfTables }')}`)
    await fetch(`${service.url}/graphql?query=${encodeURIComponent('{ nope }')}`)
    for (let attempt = 0; attempt < 100; attempt++) {
      exposition = parseExposition(await (await fetch(`${service.url}/metrics`)).text())
      if (exposition.has('db_up') && exposition.has('db_health_last_success_timestamp_seconds')) break
      await new Promise((resolveWait) => setTimeout(resolveWait, 100))
    }
  })
  afterAll(() => service?.close())

  it('every metric, label and label value in the rules and the dashboard is one the service exports', () => {
    const expressions: DashboardQuery[] = [
      ...rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
      ...Object.values(dashboardQueries()),
    ]

    const problems = expressions.flatMap(({ where, expr }) =>
      problemsWith(expr, exposition).map((problem) => `${where}: ${problem}`),
    )

    expect(exposition.get('db_up')).toBeDefined()
    expect(problems).toEqual([])
  })

  it('the check can fail: a misspelled metric, label, value or grouping label, and a nameless selector', () => {
    expect(problemsWith('rate(db_upp[5m])', exposition)).toEqual(['db_upp is not exported by the service'])
    expect(problemsWith('db_up{reslt="x"}', exposition)).toEqual(['db_up has no label reslt'])
    expect(problemsWith('db_pool_connections{pool="querys"}', exposition)).toEqual([
      'db_pool_connections{pool="querys"} is never exported (seen: queries, health)',
    ])
    expect(problemsWith('sum by (rout) (http_request_duration_seconds_count)', exposition)).toEqual([
      'no selected series has the label rout',
    ])
    expect(problemsWith('{__name__="db_up"}', exposition)).toEqual(['a selector without a metric name'])
    expect(problemsWith('up{job="ctera-app"} == 0', exposition)).toEqual([])
  })
})
