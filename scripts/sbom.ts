// npm run sbom [FILE]: a CycloneDX SBOM of the production dependencies, the packages the image's bundle is
// built from (no dev dependencies; no optional ones: the embedded PostgreSQL is not in the image). Offline,
// from package-lock.json alone.
//
// Why not `npm sbom --omit dev` alone: npm (11.x, npm/cli#7909) drops a production package from it when a
// dev dependency also reaches it (here graphql, graphql-yoga and @opentelemetry/api, among others). So the
// full SBOM is made, and its components are kept when the lockfile says npm installs them for production.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

interface LockEntry {
  name?: string
  version?: string
  dev?: boolean
  optional?: boolean
  devOptional?: boolean
}
interface Component {
  'bom-ref': string
  group?: string
  name: string
  version: string
  scope?: string
  [key: string]: unknown
}
interface Bom {
  metadata: { component?: Record<string, unknown>; [key: string]: unknown }
  components: Component[]
  dependencies?: Array<{ ref: string; dependsOn?: string[] }>
  [key: string]: unknown
}

const root = resolve(import.meta.dirname, '..')
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>
}
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  name: string
  version: string
  dependencies: Record<string, string>
}

/** name@version of every package `npm ci --omit=dev --omit=optional` installs. */
function productionPackages(packages = lock.packages): Set<string> {
  return new Set(
    Object.entries(packages)
      .filter(([path, entry]) => path !== '' && !entry.dev && !entry.optional && !entry.devOptional)
      .map(([path, entry]) => `${entry.name ?? path.split('node_modules/').at(-1)}@${entry.version}`),
  )
}

const full = JSON.parse(
  execFileSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }),
) as Bom
const production = productionPackages()
const components = full.components
  .filter((component) =>
    production.has(`${component.group ? `${component.group}/` : ''}${component.name}@${component.version}`),
  )
  .map((component) => ({ ...component, scope: 'required' }))
const kept = new Set(components.map((component) => component['bom-ref']))
const rootRef = `${pkg.name}@${pkg.version}`
const bom: Bom = {
  ...full,
  // With --package-lock-only npm names the root after the checkout's directory: the package's own name.
  metadata: {
    ...full.metadata,
    component: {
      ...full.metadata.component,
      'bom-ref': rootRef,
      name: pkg.name,
      version: pkg.version,
      purl: `pkg:npm/${pkg.name}@${pkg.version}`,
    },
  },
  components,
  dependencies: (full.dependencies ?? []).flatMap((dependency) => {
    const isRoot = dependency.ref === full.metadata.component?.['bom-ref']
    if (!isRoot && !kept.has(dependency.ref)) return []
    // The root depends on its own production dependencies only (its dev dependencies may be kept too,
    // when a production package also needs them).
    const dependsOn = (dependency.dependsOn ?? []).filter(
      (ref) => kept.has(ref) && (!isRoot || ref.replace(/@[^@]*$/, '') in pkg.dependencies),
    )
    return [{ ref: isRoot ? rootRef : dependency.ref, dependsOn }]
  }),
}
const text = `${JSON.stringify(bom, null, 2)}\n`
if (process.argv[2]) writeFileSync(process.argv[2], text)
else process.stdout.write(text)
