import { parse as parseConnectionString } from 'pg-connection-string'
import { type DatabaseTls, readDatabaseTls, splitTlsParameters } from './database-tls.js'
import { ConfigError, type Env, readInteger, readString } from './readers.js'
import { readPassword } from './secret-files.js'

export { type DatabaseTls, SSL_MODES, type SslMode } from './database-tls.js'

/** Where a PostgreSQL server is and who we are there. */
export interface ConnectionSettings {
  host: string
  port: number
  user: string
  database: string
  password?: string
  /** DB_PASSWORD_FILE: read again for each new connection, so that a rotated password needs no restart. */
  passwordFile?: string
  /** Set when the connection came from DATABASE_URL; it may carry the password, so never log it. */
  connectionString?: string
  tls?: DatabaseTls
}

/** How the service reaches PostgreSQL: an external server, or the embedded one started for local use. */
export type DatabaseTarget =
  | ({ kind: 'external' } & ConnectionSettings)
  | { kind: 'embedded'; dataDir: string }

const DB_PART_NAMES = ['DB_HOST', 'DB_PORT', 'DB_USER', 'DB_NAME', 'DB_PASSWORD', 'DB_PASSWORD_FILE'] as const

/** DATABASE_URL, else the DB_* parts, else (nothing set) the embedded PostgreSQL in EMBEDDED_DB_DIR. */
export function readDatabaseTarget(env: Env): DatabaseTarget {
  const url = readString(env, 'DATABASE_URL')
  if (url !== undefined) {
    // node-postgres would let the URL's TLS parameters win over ours: they are read here, and removed.
    const split = splitTlsParameters(url)
    return { ...readDatabaseUrl(split.url), tls: readDatabaseTls(env, split.tls) }
  }

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
    passwordFile: readString(env, 'DB_PASSWORD_FILE'),
    tls: readDatabaseTls(env, {}),
  }
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
