import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Logger } from '../../logger.js'
import { EmbeddedPostgresError } from './embedded-errors.js'

const run = promisify(execFile)

/** The unprivileged account the server runs as when we are root (PostgreSQL refuses to run as root). */
export interface PostgresUser {
  uid: number
  gid: number
  /** Whether this user may execute the program at `path` (every folder above it included). */
  canRun(path: string): boolean
  /** Whether this user may enter and write in the folder at `path`. */
  canWriteIn(path: string): boolean
  own(...paths: string[]): Promise<void>
}

/** Where root keeps a cluster whose data folder the postgres user cannot reach. */
export const SHARED_CLUSTERS_ROOT = '/var/lib/ctera-app/clusters'

export async function postgresUser(logger: Logger): Promise<PostgresUser> {
  let ids = await idsOf('postgres')
  if (!ids) {
    logger.info('running as root: creating the system user `postgres` for the embedded PostgreSQL')
    try {
      await run('groupadd', ['--system', 'postgres']).catch(() => undefined)
      await run('useradd', [
        '--system',
        '-g',
        'postgres',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ])
    } catch (error) {
      throw new EmbeddedPostgresError(
        `running as root, the embedded PostgreSQL needs a \`postgres\` user, and creating it failed (${firstLine(error)}); create one (useradd postgres) or set DATABASE_URL`,
      )
    }
    ids = await idsOf('postgres')
    if (!ids) throw new EmbeddedPostgresError('running as root: the `postgres` user could not be created')
  }
  const { uid, gid } = ids
  const test = (...args: string[]) => spawnSync('test', args, { uid, gid, stdio: 'ignore' }).status === 0
  return {
    uid,
    gid,
    canRun: (path) => test('-x', path),
    canWriteIn: (path) => test('-x', path, '-a', '-w', path),
    own: async (...paths) => {
      for (const path of paths) await chown(path, uid, gid)
    },
  }
}

/**
 * The cluster stays in the data folder when the postgres user can reach it. When it cannot (the data folder
 * is inside /root, mode 0700), the cluster lives in a folder named after the data folder's path under
 * SHARED_CLUSTERS_ROOT, so each checkout keeps its own, across restarts.
 */
export async function reachableClusterDir(
  wanted: string,
  runAs: PostgresUser | undefined,
  logger: Logger,
): Promise<string> {
  if (!runAs) return wanted
  const dataDir = dirname(wanted)
  // The data folder stays root's (it holds the credentials); postgres only needs to pass through it.
  await chmod(dataDir, 0o711)
  if (existsSync(wanted) ? runAs.canWriteIn(wanted) : runAs.canRun(dataDir)) return wanted

  const name = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)
  const elsewhere = join(SHARED_CLUSTERS_ROOT, name)
  logger.info(
    { dataDir, clusterDir: elsewhere },
    'the postgres user cannot reach the data folder: keeping the cluster where it can',
  )
  await mkdir(SHARED_CLUSTERS_ROOT, { recursive: true, mode: 0o755 })
  await chmod(dirname(SHARED_CLUSTERS_ROOT), 0o755)
  await chmod(SHARED_CLUSTERS_ROOT, 0o755)
  return elsewhere
}

async function idsOf(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])])
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) }
  } catch {
    return undefined
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error'
}
