import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { appendFile, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { findFreePort } from '../../src/net/free-port.js'
import { withClient } from './postgres.js'

const run = promisify(execFile)
const DEBIAN_POSTGRES = '/usr/lib/postgresql'

/**
 * A real streaming replica on this machine: a primary and a standby made from it with
 * `pg_basebackup -R`, both run by Debian's PostgreSQL server packages (the embedded binaries have no
 * pg_basebackup), each on its own port on 127.0.0.1.
 */
export interface ReplicationPair {
  primary: Server
  standby: Server
  /** Both servers' major version. */
  major: string
  /** Stops both servers and deletes their files. */
  destroy(): Promise<void>
}

export interface Server {
  /** The superuser, over TCP without a password (trust, 127.0.0.1 only). */
  admin: ConnectionSettings
  /** The `ctera` login role with a password, as the service connects. */
  app: ConnectionSettings
  sql<T = Record<string, unknown>>(text: string): Promise<T[]>
}

/** The newest Debian PostgreSQL major with both a server and pg_basebackup, or a message saying what to install. */
function debianBinaries(): { bin: string; major: string } {
  const majors = existsSync(DEBIAN_POSTGRES)
    ? readdirSync(DEBIAN_POSTGRES).filter((name) => /^\d+$/.test(name))
    : []
  const usable = majors
    .sort((a, b) => Number(b) - Number(a))
    .find((major) =>
      ['postgres', 'initdb', 'pg_ctl', 'pg_basebackup'].every((tool) =>
        existsSync(join(DEBIAN_POSTGRES, major, 'bin', tool)),
      ),
    )
  if (!usable) {
    throw new Error(
      `no PostgreSQL server with pg_basebackup under ${DEBIAN_POSTGRES}: install postgresql-15 (apt-get install postgresql-15, or bash .ci/run)`,
    )
  }
  return { bin: join(DEBIAN_POSTGRES, usable, 'bin'), major: usable }
}

/** PostgreSQL refuses to run as root: as root, every server command runs as the `postgres` user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]).catch(
    () => {
      throw new Error('running as root: a `postgres` user is needed (useradd --system postgres)')
    },
  )
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) }
}

export async function startReplicationPair(): Promise<ReplicationPair> {
  const { bin, major } = debianBinaries()
  const user = await runAs()
  const root = await mkdtemp(join(tmpdir(), 'ctera-replication-'))
  if (user) await chown(root, user.uid, user.gid)
  const tool = async (name: string, args: string[]) => {
    try {
      return await run(join(bin, name), args, {
        ...user,
        cwd: root,
        env: { PATH: process.env.PATH, LC_ALL: 'C' },
      })
    } catch (error) {
      const failed = error as { stderr?: string; message: string }
      throw new Error(
        `${name} failed: ${(failed.stderr || failed.message).trim().split('\n').slice(-3).join(' ')}`,
      )
    }
  }
  const started: string[] = []
  const stopAll = async () => {
    for (const dir of started.reverse())
      await tool('pg_ctl', ['stop', '-D', dir, '-m', 'immediate', '-w']).catch(() => {})
  }

  try {
    const primaryDir = join(root, 'primary')
    const standbyDir = join(root, 'standby')
    const [primaryPort, standbyPort] = [await findFreePort(), await findFreePort()]
    await tool('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
    await appendFile(
      join(primaryDir, 'postgresql.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${root}'`,
        'wal_level = replica',
        'max_wal_senders = 4',
        'hot_standby = on',
        'fsync = off',
        'shared_buffers = 16MB',
        '',
      ].join('\n'),
    )
    // The superuser and replication trust 127.0.0.1 (this test's own servers); the app's role needs its password.
    await writeFile(
      join(primaryDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'host replication postgres 127.0.0.1/32 trust',
        'host all postgres 127.0.0.1/32 trust',
        'host all all 127.0.0.1/32 scram-sha-256',
        '',
      ].join('\n'),
    )
    const start = async (dir: string, port: number) => {
      await tool('pg_ctl', ['start', '-D', dir, '-w', '-t', '60', '-l', `${dir}.log`, '-o', `-p ${port}`])
      started.push(dir)
    }
    await start(primaryDir, primaryPort)

    const password = `pw-${randomBytes(12).toString('hex')}`
    const admin = (port: number): ConnectionSettings => ({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
    })
    const server = (port: number): Server => ({
      admin: admin(port),
      app: { ...admin(port), user: 'ctera', password },
      sql: async <T>(text: string) =>
        withClient(admin(port), async (client) => (await client.query(text)).rows as T[]),
    })
    const primary = server(primaryPort)
    await primary.sql(`CREATE ROLE ctera LOGIN PASSWORD '${password}'`)

    // -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
    await tool('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      standbyDir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ])
    await start(standbyDir, standbyPort)
    const standby = server(standbyPort)

    return {
      primary,
      standby,
      major,
      destroy: async () => {
        await stopAll()
        await rm(root, { recursive: true, force: true })
      },
    }
  } catch (error) {
    const logs = await Promise.all(started.map((dir) => readFile(`${dir}.log`, 'utf8').catch(() => '')))
    await stopAll()
    await rm(root, { recursive: true, force: true })
    if (logs.some(Boolean)) (error as Error).message += `\n${logs.join('\n').slice(-2000)}`
    throw error
  }
}

/** Waits until the standby has replayed everything the primary has written so far. */
export async function caughtUp(pair: ReplicationPair, timeoutMs = 30_000): Promise<void> {
  const lsn = await primaryLsn(pair)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [row] = await pair.standby.sql<{ done: boolean }>(
      `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`,
    )
    if (row?.done) return
    if (Date.now() > deadline) throw new Error(`the standby did not replay up to ${lsn} in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until the standby has received (not necessarily replayed) everything the primary has written. */
export async function received(pair: ReplicationPair, timeoutMs = 30_000): Promise<void> {
  const lsn = await primaryLsn(pair)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [row] = await pair.standby.sql<{ done: boolean }>(
      `SELECT pg_last_wal_receive_lsn() >= '${lsn}'::pg_lsn AS done`,
    )
    if (row?.done) return
    if (Date.now() > deadline) throw new Error(`the standby did not receive up to ${lsn} in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** What the primary has flushed: all of it is what a walsender may send. */
async function primaryLsn(pair: ReplicationPair): Promise<string> {
  const [row] = await pair.primary.sql<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn')
  if (!row) throw new Error('the primary did not say its WAL position')
  return row.lsn
}
