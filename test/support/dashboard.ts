import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ROOT } from './dockerfile.js'

interface Target {
  refId: string
  expr: string
  datasource: { uid: string }
}
export interface Panel {
  id: number
  type: string
  title: string
  gridPos: { x: number; y: number; w: number; h: number }
  datasource?: { type: string; uid: string }
  targets?: Target[]
}
export interface Dashboard {
  uid: string
  panels: Panel[]
  templating: { list: Array<{ name: string; type: string; query?: { query: string } }> }
}

/** deploy/monitoring/grafana-dashboard.json, and its panels without the rows that group them. */
export function readDashboard(): { dashboard: Dashboard; panels: Panel[] } {
  const dashboard = JSON.parse(
    readFileSync(resolve(ROOT, 'deploy/monitoring/grafana-dashboard.json'), 'utf8'),
  ) as Dashboard
  return { dashboard, panels: dashboard.panels.filter((panel) => panel.type !== 'row') }
}

/** What Grafana puts in place of its variables before a query reaches Prometheus (a sample value each). */
export const GRAFANA_VALUES: Record<string, string> = {
  __rate_interval: '1m',
  job: 'ctera-app',
  instance: '.*',
}

export interface DashboardQuery {
  /** Where it is, for a reader of a failure. */
  where: string
  expr: string
}

/**
 * Every query of the dashboard with the Grafana variables filled in, keyed by a name promtool accepts for
 * a recording rule. `values` replaces some of GRAFANA_VALUES (a shorter rate window for a fast scrape).
 */
export function dashboardQueries(values: Record<string, string> = {}): Record<string, DashboardQuery> {
  const { dashboard, panels } = readDashboard()
  const all = { ...GRAFANA_VALUES, ...values }
  const fill = (query: string) => query.replace(/\$(\w+)/g, (variable, name: string) => all[name] ?? variable)
  const queries: Record<string, DashboardQuery> = {}
  for (const panel of panels)
    for (const target of panel.targets ?? [])
      queries[`dashboard:panel_${panel.id}_${target.refId}`] = {
        where: `panel "${panel.title}" query ${target.refId}`,
        expr: fill(target.expr),
      }
  // Variable queries are Grafana's label_values(selector, label): the same names, as PromQL.
  for (const variable of dashboard.templating.list) {
    const labelValues = /^label_values\((.+), *(\w+)\)$/.exec(variable.query?.query ?? '')
    if (labelValues)
      queries[`dashboard:variable_${variable.name}`] = {
        where: `variable ${variable.name}`,
        expr: fill(`count by (${labelValues[2]}) (${labelValues[1]})`),
      }
  }
  return queries
}
