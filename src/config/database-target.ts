import { parse as parseConnectionString } from 'pg-connection-string'
import { ConfigError, type Env, readChoice, readInteger, readString } from './readers.js'
import { readPassword, readPemFile } from './secret-files.js'

/** Where a PostgreSQL server is and who we are there. */
export interface ConnectionSettings {
  host: string
  port: number
  user: string
  database: string
  password?: string
  /** Set when the connection came from DATABASE_URL; it may carry the password, so never log it. */
  connectionString?: string
  tls?: DatabaseTls
}

/** DB_SSLMODE, as libpq names the modes that node-postgres can honour. */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const
export type SslMode = (typeof SSL_MODES)[number]

export interface DatabaseTls {
  mode: Exclude<SslMode, 'disable'>
  /** PEM of the CA that signed the server's certificate (DB_SSLROOTCERT); with `require` too, it is checked (as libpq does). */
  ca?: string
}

/** How the service reaches PostgreSQL: an external server, or the embedded one started for local use. */
export type DatabaseTarget =
  | ({ kind: 'external' } & ConnectionSettings)
  | { kind: 'embedded'; dataDir: string }

const DB_PART_NAMES = ['DB_HOST', 'DB_PORT', 'DB_USER', 'DB_NAME', 'DB_PASSWORD', 'DB_PASSWORD_FILE'] as const

/** DATABASE_URL, else the DB_* parts, else (nothing set) the embedded PostgreSQL in EMBEDDED_DB_DIR. */
export function readDatabaseTarget(env: Env): DatabaseTarget {
  const url = readString(env, 'DATABASE_URL')
  if (url !== undefined) return { ...readDatabaseUrl(url), tls: readDatabaseTls(env) }

  const setParts = DB_PART_NAMES.filter((name) => readString(env, name) !== undefined)
  if (setParts.length === 0) {
    return { kind: 'embedded', dataDir: readString(env, 'EMBEDDED_DB_DIR') ?? '.data' }
  }
  const host = readString(env, 'DB_HOST')
  if (host === undefined) {
    throw new ConfigError(
      `DB_HOST: required when ${setParts.join(', ')} ${setParts.length === 1 ? 'is' : 'are'} set (or set DATABASE_URL)`,
    )
  }
  return {
    kind: 'external',
    host,
    port: readInteger(env, 'DB_PORT', 5432, 1, 65535),
    user: readString(env, 'DB_USER') ?? 'postgres',
    database: readString(env, 'DB_NAME') ?? 'postgres',
    password: readPassword(env),
    tls: readDatabaseTls(env),
  }
}

function readDatabaseTls(env: Env): DatabaseTls | undefined {
  const mode = readChoice(env, 'DB_SSLMODE', SSL_MODES, 'disable')
  const caFile = readString(env, 'DB_SSLROOTCERT')
  if (mode === 'disable') {
    if (caFile)
      throw new ConfigError('DB_SSLROOTCERT: set, but DB_SSLMODE is disable; set DB_SSLMODE=verify-full')
    return undefined
  }
  if ((mode === 'verify-ca' || mode === 'verify-full') && !caFile) {
    throw new ConfigError(`DB_SSLROOTCERT: required with DB_SSLMODE=${mode} (the CA certificate, PEM)`)
  }
  return { mode, ca: caFile ? readPemFile('DB_SSLROOTCERT', caFile) : undefined }
}

function readDatabaseUrl(url: string): { kind: 'external' } & ConnectionSettings {
  // Never echo the URL itself in an error: it may carry the password.
  const invalid = new ConfigError('DATABASE_URL: not a valid postgres:// or postgresql:// URL')
  if (!/^postgres(ql)?:\/\//i.test(url)) throw invalid
  let parsed: ReturnType<typeof parseConnectionString>
  try {
    parsed = parseConnectionString(url)
  } catch {
    throw invalid
  }
  const port = parsed.port ? Number(parsed.port) : 5432
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError('DATABASE_URL: the port must be an integer from 1 to 65535')
  }
  return {
    kind: 'external',
    host: parsed.host || 'localhost',
    port,
    user: parsed.user || 'postgres',
    database: parsed.database || parsed.user || 'postgres',
    connectionString: url,
  }
}
