/**
 * Writes the servicemonitor component's PrometheusRule and Grafana dashboard ConfigMap from
 * deploy/monitoring/alerts.yaml and deploy/monitoring/grafana-dashboard.json, which stay the one place
 * to edit (plain Prometheus and Grafana read them as they are). Kustomize cannot read files outside a
 * component's folder, hence a generated copy; test/deployment/k8s.test.ts fails when it is stale.
 *
 *   npm run monitoring:manifests
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Document, parseDocument, stringify } from 'yaml'

const ROOT = resolve(import.meta.dirname, '..')
const COMPONENT = 'deploy/k8s/components/servicemonitor'

/** The label Grafana's dashboard sidecar (kube-prometheus-stack's default) looks for on ConfigMaps. */
export const DASHBOARD_LABEL = { grafana_dashboard: '1' }
export const DASHBOARD_KEY = 'ctera-app.json'

function header(source: string): string {
  return `# Generated from ${source} by \`npm run monitoring:manifests\`: edit that file, not this one.\n`
}

/** Path (from the repository root) -> content of every generated manifest. */
export function monitoringManifests(root = ROOT): Record<string, string> {
  // The rules' YAML nodes are moved as they are, so their comments and block styles come along.
  const rules = parseDocument(readFileSync(resolve(root, 'deploy/monitoring/alerts.yaml'), 'utf8'))
  const dashboard = readFileSync(resolve(root, 'deploy/monitoring/grafana-dashboard.json'), 'utf8')
  const prometheusRule = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'ctera-app' },
    spec: { groups: [] },
  })
  prometheusRule.setIn(['spec', 'groups'], rules.get('groups', true))
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ctera-app-dashboard', labels: DASHBOARD_LABEL },
    data: { [DASHBOARD_KEY]: dashboard },
  }
  return {
    [`${COMPONENT}/prometheusrule.yaml`]: header('deploy/monitoring/alerts.yaml') + prometheusRule.toString(),
    [`${COMPONENT}/grafana-dashboard.yaml`]:
      header('deploy/monitoring/grafana-dashboard.json') +
      stringify(configMap, { blockQuote: 'literal', lineWidth: 0 }),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [path, content] of Object.entries(monitoringManifests())) {
    writeFileSync(resolve(ROOT, path), content)
    console.log(`wrote ${path}`)
  }
}
