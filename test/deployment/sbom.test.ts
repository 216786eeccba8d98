import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'

// `npm run sbom` (scripts/sbom.ts) is the SBOM docker.yml attests for each pushed image. It must list exactly
// the packages the image is built from: what package.json's dependencies reach through package-lock.json,
// found here by walking the lockfile the way Node resolves modules (not from the lockfile's dev/optional
// flags, which the script uses).
const ROOT = resolve(import.meta.dirname, '../..')

interface LockEntry {
  name?: string
  version: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}
interface Component {
  group?: string
  name: string
  version: string
  scope: string
  purl: string
  hashes?: Array<{ alg: string; content: string }>
}

const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>
}
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  name: string
  version: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  optionalDependencies: Record<string, string>
}

/** Where Node finds `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveFrom(from: string, name: string): string | undefined {
  let base = from
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`
    if (lock.packages[candidate]) return candidate
    if (!base) return undefined
    const cut = base.lastIndexOf('/node_modules/')
    base = cut >= 0 ? base.slice(0, cut) : ''
  }
}

/** name@version of everything the production dependencies need (required and non-optional peer edges). */
function reachableFromProduction(): Set<string> {
  const found = new Set<string>()
  const queue = Object.keys(pkg.dependencies).map((name) => ({ from: '', name }))
  const seen = new Set<string>()
  while (queue.length > 0) {
    const { from, name } = queue.shift() as { from: string; name: string }
    const path = resolveFrom(from, name)
    if (!path || seen.has(path)) continue
    seen.add(path)
    const entry = lock.packages[path] as LockEntry
    found.add(`${entry.name ?? path.split('node_modules/').at(-1)}@${entry.version}`)
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (peer) => !entry.peerDependenciesMeta?.[peer]?.optional,
    )
    for (const next of [...Object.keys(entry.dependencies ?? {}), ...peers])
      queue.push({ from: path, name: next })
  }
  return found
}

let bom: {
  bomFormat: string
  specVersion: string
  metadata: { component: Component }
  components: Component[]
}

beforeAll(() => {
  const made = spawnSync('npm', ['run', '--silent', 'sbom'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (made.status !== 0) throw new Error(`npm run sbom failed: ${made.stderr}`)
  bom = JSON.parse(made.stdout)
}, 180_000)

const key = (component: Component) =>
  `${component.group ? `${component.group}/` : ''}${component.name}@${component.version}`

describe('the SBOM of production dependencies (npm run sbom)', () => {
  it('lists exactly the packages the production dependencies reach in package-lock.json', () => {
    const listed = new Set(bom.components.map(key))
    const expected = reachableFromProduction()

    expect(expected.size).toBeGreaterThan(50)
    expect([...listed].filter((entry) => !expected.has(entry))).toEqual([])
    expect([...expected].filter((entry) => !listed.has(entry))).toEqual([])
    expect(bom.components.length).toBe(listed.size)
  })

  it('holds no dev or optional dependency: no test tools, no bundler, no embedded PostgreSQL', () => {
    const names = new Set(bom.components.map((component) => key(component).replace(/@[^@]*$/, '')))
    const reached = reachableFromProduction()

    for (const name of [...Object.keys(pkg.devDependencies), ...Object.keys(pkg.optionalDependencies)]) {
      // A dev dependency may also be a production one's dependency (then it is in the image's bundle).
      if (reached.has(`${name}@${lock.packages[`node_modules/${name}`]?.version}`)) continue
      expect(names.has(name), name).toBe(false)
    }
    expect([...names].filter((name) => name in pkg.dependencies).sort()).toEqual(
      Object.keys(pkg.dependencies).sort(),
    )
  })

  it('is CycloneDX, names the package, and gives each component its purl and its lockfile hash', () => {
    expect(bom.bomFormat).toBe('CycloneDX')
    expect(bom.specVersion).toMatch(/^1\.\d+$/)
    expect(bom.metadata.component).toMatchObject({ name: pkg.name, version: pkg.version })
    for (const component of bom.components) {
      expect(component.scope).toBe('required')
      expect(component.purl).toMatch(/^pkg:npm\//)
      expect(component.hashes?.[0]?.alg).toBe('SHA-512')
    }
  })
})
