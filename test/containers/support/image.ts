import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOCKER, docker, run } from './engine.js'
import { ROOT } from './stack.js'

const STANDIN_LABEL = 'ctera.standin.recipe'
// FROM [--flags] NAME:TAG@sha256:DIGEST [AS stage]
const PINNED_FROM = /^(FROM\s+(?:--\S+\s+)*)(\S+?:[^@\s]+)@(sha256:[0-9a-f]{64})/gim

export interface BaseImage {
  /** As the Dockerfile names it, digest included. */
  reference: string
  /** What to inspect in the local image store: NAME@DIGEST when pulled by digest, else the stand-in's NAME:TAG. */
  local: string
  standIn: boolean
}

/** The runtime stage's base image (the last FROM), and whether the engine holds the real one or a stand-in. */
export async function runtimeBase(
  dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
): Promise<BaseImage> {
  const froms = [...dockerfile.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gim)].map((match) => match[1] ?? '')
  const reference = froms.at(-1) ?? ''
  const [name, digest] = reference.split('@')
  const byDigest = digest ? `${name?.replace(/:[^:/]+$/, '')}@${digest}` : reference
  if (digest && (await imageExists(byDigest))) {
    return { reference, local: byDigest, standIn: false }
  }
  const label = await run(DOCKER, [
    'image',
    'inspect',
    '--format',
    `{{ index .Config.Labels "${STANDIN_LABEL}" }}`,
    name ?? '',
  ])
  const standIn = label.status === 0 && label.stdout.trim() !== '' && label.stdout.trim() !== '<no value>'
  return { reference, local: name ?? reference, standIn }
}

async function imageExists(reference: string): Promise<boolean> {
  return (await run(DOCKER, ['image', 'inspect', reference])).status === 0
}

/**
 * The Dockerfile the suite builds: the one shipped, or, where a base pinned by digest is a local stand-in
 * (`npm run containers:setup` tags stand-ins NAME:TAG: a digest is the hash of the registry's manifest and
 * cannot be made here), a copy with only the `@sha256:…` of those FROM lines removed.
 */
export function dockerfileForStandIns(shipped: string, standIns: string[]): string {
  return shipped.replace(PINNED_FROM, (line, from: string, name: string) =>
    standIns.includes(name) ? `${from}${name}` : line,
  )
}

/** Builds the image from the Dockerfile as shipped (see dockerfileForStandIns); returns the file used. */
export async function buildImage(
  tag: string,
  workDir: string,
  extraArgs: string[] = [],
): Promise<{ file: string; shipped: string }> {
  const shipped = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  const base = await runtimeBase(shipped)
  const standIns = base.standIn ? [base.local] : []
  const file = join(workDir, 'Dockerfile')
  writeFileSync(file, dockerfileForStandIns(shipped, standIns))
  await docker(['build', '--tag', tag, ...extraArgs, '--file', file, '.'], { cwd: ROOT, timeoutMs: 900_000 })
  return { file, shipped }
}

/** Size in bytes of an image in the local store (all its layers). */
export async function imageBytes(reference: string): Promise<number> {
  return Number((await docker(['image', 'inspect', reference, '--format', '{{.Size}}'])).trim())
}

/** `docker history` of the layers an image adds to its base: [size in bytes, instruction]. */
export async function ownLayers(
  image: string,
  base: string,
): Promise<Array<{ bytes: number; step: string }>> {
  const history = (reference: string) =>
    docker([
      'history',
      '--no-trunc',
      '--human=false',
      '--format',
      '{{.Size}}\t{{.CreatedBy}}',
      reference,
    ]).then((text) => text.split('\n').filter(Boolean))
  const [mine, theirs] = await Promise.all([history(image), history(base)])
  return mine.slice(0, mine.length - theirs.length).map((line) => {
    const [bytes, ...step] = line.split('\t')
    return { bytes: Number(bytes), step: step.join('\t') }
  })
}
