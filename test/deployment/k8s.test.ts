import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { DASHBOARD_KEY, DASHBOARD_LABEL, monitoringManifests } from '../../scripts/monitoring-manifests.js'
import { loadConfig } from '../../src/config/load-config.js'
import { openApiDocument } from '../../src/rest/openapi.js'
import { ROOT } from '../support/dockerfile.js'
import { variablesTheAppReads } from '../support/env-names.js'

const K8S = resolve(ROOT, 'deploy/k8s')
type Manifest = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string }
  [key: string]: unknown
}

// The Kubernetes API schemas, as the kubernetes-models packages ship them (types, required fields, formats).
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
}

function validate(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`]
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`)
  new Model(manifest as never).validate()
}

function readYaml(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => document.toJSON() as Manifest)
}

interface Kustomization {
  resources?: string[]
  components?: string[]
  namespace?: string
  images?: Array<{ name: string; newName?: string; newTag?: string }>
  secretGenerator?: Array<{ name: string; files: string[] }>
  patches?: Array<{ path: string; target?: { kind: string; name: string } }>
  labels?: Array<{ pairs: Record<string, string> }>
}

/** Strategic merge as far as these manifests need it: maps merge, lists of named items merge by name. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (!patch.every((item) => item && typeof item === 'object' && 'name' in item)) return patch
    const merged = base.map((item) => {
      const match = patch.find((candidate) => candidate.name === (item as { name: string }).name)
      return match ? merge(item, match) : item
    })
    for (const item of patch) if (!base.some((existing) => existing.name === item.name)) merged.push(item)
    return merged
  }
  if (base && patch && typeof base === 'object' && typeof patch === 'object') {
    const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) }
    for (const [key, value] of Object.entries(patch))
      merged[key] = key in merged ? merge(merged[key], value) : value
    return merged
  }
  return patch
}

/**
 * What `kustomize build DIR` gives for these files (resources, components, patches, images, namespace,
 * labels, secrets). A component works on what was built before it: its patches reach the base's manifests.
 */
function build(dir: string, builtBefore: Manifest[] = []): Manifest[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization
  let manifests: Manifest[] = builtBefore
  for (const resource of kustomization.resources ?? []) {
    const path = resolve(dir, resource)
    manifests.push(...(resource.endsWith('.yaml') ? readYaml(path) : build(path)))
  }
  for (const component of kustomization.components ?? [])
    manifests = build(resolve(dir, component), manifests)
  for (const generator of kustomization.secretGenerator ?? []) {
    const data = Object.fromEntries(
      generator.files.map((file) => [file.split('=')[0], Buffer.from('placeholder').toString('base64')]),
    )
    manifests.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: generator.name }, data })
  }
  for (const { path } of kustomization.patches ?? []) {
    const patch = parse(readFileSync(join(dir, path), 'utf8')) as Manifest
    manifests = manifests.map((manifest) =>
      manifest.kind === patch.kind && manifest.metadata.name === patch.metadata.name
        ? (merge(manifest, patch) as Manifest)
        : manifest,
    )
  }
  for (const manifest of manifests) {
    if (kustomization.namespace) manifest.metadata.namespace = kustomization.namespace
    for (const { pairs } of kustomization.labels ?? []) {
      const metadata = manifest.metadata as { labels?: Record<string, string> }
      metadata.labels = { ...metadata.labels, ...pairs }
    }
    for (const image of kustomization.images ?? []) {
      const containers = (
        manifest as { spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } }
      ).spec?.template?.spec?.containers
      for (const container of containers ?? []) {
        if (container.image.split(':')[0] === image.name || container.image.split(':')[0] === image.newName) {
          container.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`
        }
      }
    }
  }
  return manifests
}

const base = build(join(K8S, 'base'))
const production = build(join(K8S, 'overlays/production'))
const deployment = base.find((manifest) => manifest.kind === 'Deployment') as unknown as {
  spec: {
    replicas: number
    strategy: { rollingUpdate: { maxUnavailable: number } }
    template: {
      spec: {
        terminationGracePeriodSeconds: number
        securityContext: Record<string, unknown>
        automountServiceAccountToken: boolean
        volumes: Array<{ name: string; secret?: { secretName: string } }>
        containers: Array<{
          image: string
          ports: Array<{ name: string; containerPort: number }>
          env: Array<{ name: string; value?: string }>
          startupProbe: { httpGet: { path: string; port: string } }
          livenessProbe: { httpGet: { path: string; port: string } }
          readinessProbe: { httpGet: { path: string; port: string }; periodSeconds: number }
          lifecycle: { preStop: { sleep?: { seconds: number }; exec?: unknown } }
          resources: { requests: Record<string, string>; limits: Record<string, string> }
          securityContext: Record<string, unknown>
          volumeMounts: Array<{ name: string; mountPath: string }>
        }>
      }
    }
  }
}
const pod = deployment.spec.template.spec
const container = pod.containers[0]
if (!container) throw new Error('the Deployment has no container')
const env = Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]))

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('every manifest of the base and of the production overlay validates against the Kubernetes API schemas', () => {
    expect(base.map((manifest) => manifest.kind).sort()).toEqual(
      ['Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service'].sort(),
    )
    expect(production.map((manifest) => manifest.kind)).toEqual(
      expect.arrayContaining(['Secret', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap']),
    )
    for (const manifest of [...base, ...production])
      expect(() => validate(manifest), `${manifest.kind}`).not.toThrow()
  })

  it('the validation can fail: a replica count that is not a number is rejected', () => {
    const broken = structuredClone(deployment) as unknown as Manifest & { spec: { replicas: unknown } }
    broken.spec.replicas = 'three'

    expect(() => validate(broken)).toThrow(/replicas must be integer/)
  })

  it('runs 3 replicas, rolls out without losing one, and the autoscaler and budget agree', () => {
    const hpa = base.find((manifest) => manifest.kind === 'HorizontalPodAutoscaler') as unknown as {
      spec: { minReplicas: number; metrics: Array<{ resource: { name: string } }> }
    }
    const pdb = base.find((manifest) => manifest.kind === 'PodDisruptionBudget') as unknown as {
      spec: { maxUnavailable: number }
    }

    expect(deployment.spec.replicas).toBe(3)
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0)
    expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas)
    expect(hpa.spec.metrics[0]?.resource.name).toBe('cpu')
    expect(pdb.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas)
  })

  it('probes paths and the port the app serves: /livez for startup and liveness, /readyz for readiness', () => {
    const servicePort = (
      base.find((manifest) => manifest.kind === 'Service') as unknown as {
        spec: { ports: Array<{ port: number; targetPort: string }> }
      }
    ).spec.ports[0]

    expect(container.startupProbe.httpGet.path).toBe('/livez')
    expect(container.livenessProbe.httpGet.path).toBe('/livez')
    expect(container.readinessProbe.httpGet.path).toBe('/readyz')
    expect(Object.keys(openApiDocument.paths)).toEqual(
      expect.arrayContaining(['/livez', '/readyz', '/metrics']),
    )
    expect(container.ports).toEqual([{ name: 'http', containerPort: loadConfig({}).port }])
    expect(container.startupProbe.httpGet.port).toBe('http')
    expect(servicePort).toMatchObject({ port: 5001, targetPort: 'http' })
  })

  it('drains for one readiness period before SIGTERM, and gives shutdown time to finish', () => {
    const preStopSeconds = Number(container.lifecycle.preStop.sleep?.seconds)

    // The kubelet sleeps: an exec hook would need a sleep binary, and the distroless image has none.
    expect(container.lifecycle.preStop.exec).toBeUndefined()
    expect(preStopSeconds).toBe(container.readinessProbe.periodSeconds)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      preStopSeconds + Number(env.SHUTDOWN_TIMEOUT_MS) / 1000,
    )
  })

  it('sets only environment variables the app reads, and mounts the password Secret as the DB_PASSWORD_FILE', () => {
    const reads = variablesTheAppReads()
    const secretVolume = pod.volumes.find((volume) => volume.secret)
    const mount = container.volumeMounts.find((candidate) => candidate.name === secretVolume?.name)
    const overlayEnv =
      (production.find((manifest) => manifest.kind === 'Deployment') as unknown as typeof deployment).spec
        .template.spec.containers[0]?.env ?? []

    expect(container.env.map((variable) => variable.name).filter((name) => !reads.has(name))).toEqual([])
    expect(overlayEnv.map((variable) => variable.name).filter((name) => !reads.has(name))).toEqual([])
    expect(env.DB_PASSWORD).toBeUndefined()
    expect(env.DB_PASSWORD_FILE?.startsWith(`${mount?.mountPath}/`)).toBe(true)
    expect(production.find((manifest) => manifest.kind === 'Secret')?.metadata.name).toBe(
      secretVolume?.secret?.secretName,
    )
  })

  it('runs locked down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no API token', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    })
    // Kubernetes writes Secret files as root; with mode 0440 only fsGroup lets the app's group read them.
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup)
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    })
    expect(pod.automountServiceAccountToken).toBe(false)
    expect(container.resources.requests).toHaveProperty('cpu')
    expect(container.resources.limits).toHaveProperty('memory')
  })

  it('lets in HTTP on 5001 only, and out only PostgreSQL and DNS', () => {
    const policy = base.find((manifest) => manifest.kind === 'NetworkPolicy') as unknown as {
      spec: {
        policyTypes: string[]
        ingress: Array<{ ports: Array<{ port: number }> }>
        egress: Array<{ ports: Array<{ port: number }> }>
      }
    }

    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(policy.spec.ingress.flatMap((rule) => rule.ports.map((port) => port.port))).toEqual([5001])
    expect(new Set(policy.spec.egress.flatMap((rule) => rule.ports.map((port) => port.port)))).toEqual(
      new Set([5432, 53]),
    )
  })

  it('uses the image CI pushes (docker.io/<DOCKER_USERNAME>/ctera-app)', () => {
    const workflow = readFileSync(resolve(ROOT, '.github/workflows/docker.yml'), 'utf8')
    const pushed =
      /images: docker\.io\/\$\{\{ secrets\.DOCKER_USERNAME \|\| 'local' \}\}\/([a-z0-9-]+)$/m.exec(
        workflow,
      )?.[1]
    const deployed = (
      production.find((manifest) => manifest.kind === 'Deployment') as unknown as typeof deployment
    ).spec.template.spec.containers[0]?.image

    expect(pushed).toBe('ctera-app')
    expect(deployed).toMatch(new RegExp(`^docker\\.io/[a-z0-9-]+/${pushed}:[\\w.-]+$`))
  })

  it('with the auth-token component, reads the token from its Secret and gives Prometheus the same one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctera-k8s-auth-'))
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      JSON.stringify({
        resources: [join(K8S, 'overlays/production')],
        components: [join(K8S, 'components/auth-token')],
        secretGenerator: [{ name: 'ctera-app-auth', files: ['auth_token=auth_token.txt'] }],
      }),
    )
    const withToken = build(dir)
    rmSync(dir, { recursive: true, force: true })
    const deploymentOf = (manifests: Manifest[]) =>
      (manifests.find((manifest) => manifest.kind === 'Deployment') as unknown as typeof deployment).spec
        .template.spec
    const tokenPod = deploymentOf(withToken)
    const tokenContainer = tokenPod.containers[0]
    const tokenFile = tokenContainer?.env.find((variable) => variable.name === 'AUTH_TOKEN_FILE')?.value
    const volume = tokenPod.volumes.find((candidate) => candidate.name === 'auth-token') as unknown as {
      secret: { secretName: string; items: Array<{ key: string; path: string }> }
    }
    const mount = tokenContainer?.volumeMounts.find((candidate) => candidate.name === 'auth-token')
    const monitor = withToken.find((manifest) => manifest.kind === 'ServiceMonitor') as unknown as {
      spec: {
        endpoints: Array<{ path: string; authorization: { credentials: { name: string; key: string } } }>
      }
    }

    for (const manifest of withToken) expect(() => validate(manifest), manifest.kind).not.toThrow()
    expect(tokenFile).toBe(`${mount?.mountPath}/${volume.secret.items[0]?.path}`)
    expect(
      withToken.filter((manifest) => manifest.kind === 'Secret').map((secret) => secret.metadata.name),
    ).toContain(volume.secret.secretName)
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({
        path: '/metrics',
        authorization: {
          type: 'Bearer',
          credentials: { name: volume.secret.secretName, key: volume.secret.items[0]?.key },
        },
      }),
    ])
    // The password stays mounted, and without the component nothing asks for a token.
    expect(tokenContainer?.env.map((variable) => variable.name)).toContain('DB_PASSWORD_FILE')
    expect(JSON.stringify(production)).not.toContain('AUTH_TOKEN_FILE')
  })

  it('scrapes /metrics on the http port with the optional ServiceMonitor', () => {
    const monitor = production.find((manifest) => manifest.kind === 'ServiceMonitor') as unknown as {
      spec: { endpoints: Array<{ port: string; path: string }> }
    }

    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })])
  })

  it('ships the alerting rules as a PrometheusRule holding exactly the groups of deploy/monitoring/alerts.yaml', () => {
    const rule = production.find((manifest) => manifest.kind === 'PrometheusRule') as unknown as {
      metadata: { namespace: string }
      spec: { groups: unknown[] }
    }
    const source = parse(readFileSync(resolve(ROOT, 'deploy/monitoring/alerts.yaml'), 'utf8')) as {
      groups: unknown[]
    }

    expect(rule.spec.groups).toEqual(source.groups)
    expect(rule.metadata.namespace).toBe('ctera')
  })

  it('the PrometheusRule validation can fail: a "for" that is not a duration is rejected', () => {
    const rule = production.find((manifest) => manifest.kind === 'PrometheusRule') as unknown as Manifest & {
      spec: { groups: Array<{ rules: Array<{ for?: string }> }> }
    }
    const broken = structuredClone(rule)
    const first = broken.spec.groups[0]?.rules[0]
    if (!first) throw new Error('the PrometheusRule has no rule')
    first.for = 'one minute'

    expect(() => validate(broken)).toThrow(/for must match pattern/)
  })

  it('ships the Grafana dashboard as a ConfigMap with the sidecar label, the JSON unchanged, small enough to apply', () => {
    const configMap = production.find(
      (manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name === 'ctera-app-dashboard',
    ) as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> }
    const json = configMap.data[DASHBOARD_KEY] ?? ''

    expect(configMap.metadata.labels).toMatchObject(DASHBOARD_LABEL)
    expect(json).toBe(readFileSync(resolve(ROOT, 'deploy/monitoring/grafana-dashboard.json'), 'utf8'))
    // kubectl apply keeps a copy in an annotation, which may hold 256 KiB at most.
    expect(Buffer.byteLength(json)).toBeLessThan(200 * 1024)
  })

  it('the generated PrometheusRule and ConfigMap are up to date (else: npm run monitoring:manifests)', () => {
    for (const [path, content] of Object.entries(monitoringManifests()))
      expect(
        readFileSync(resolve(ROOT, path), 'utf8'),
        `${path} is stale: run npm run monitoring:manifests`,
      ).toBe(content)
  })

  it('ships a PgBouncer manifest that validates too', () => {
    const files = readdirSync(join(K8S, 'pgbouncer')).filter((file) => file.endsWith('.yaml'))
    const manifests = files.flatMap((file) => readYaml(join(K8S, 'pgbouncer', file)))

    expect(manifests.map((manifest) => manifest.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'Service']),
    )
    for (const manifest of manifests) expect(() => validate(manifest), manifest.kind).not.toThrow()
  })
})
