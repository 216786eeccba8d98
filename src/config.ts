import { readFileSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { parse as parseConnectionString } from 'pg-connection-string'
import { parseProxyList } from './http/client-address.js'

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

/** HTTPS for the service itself, from TLS_CERT_FILE and TLS_KEY_FILE (PEM). */
export interface ServerTls {
  cert: string
  key: string
}

/** How the service reaches PostgreSQL: an external server, or the embedded one started for local use. */
export type DatabaseTarget =
  | ({ kind: 'external' } & ConnectionSettings)
  | { kind: 'embedded'; dataDir: string }

export interface Config {
  port: number
  host: string
  /** Serve HTTPS with this certificate and key; plain HTTP when absent. */
  tls?: ServerTls
  /** NODE_ENV=production: GraphQL field suggestions are hidden. */
  production: boolean
  /** Answer introspection queries (GraphiQL and codegen need them). */
  introspection: boolean
  /** Serve GraphiQL at GET /graphql to browsers. */
  graphiql: boolean
  /** Larger POST bodies to /graphql are refused with 413. */
  maxBodyBytes: number
  /** Browser origins allowed to call /graphql (CORS), without credentials; empty = CORS off. */
  corsOrigins: string[]
  /** Live subscriptions (SSE streams) open at once; more are refused with TOO_MANY_SUBSCRIPTIONS. */
  maxSubscriptions: number
  /** GraphQL requests being read or run at once; more are refused with 503 SERVER_BUSY. */
  maxInFlight: number
  /** A client must send its request headers within this (slowloris). */
  headersTimeoutMs: number
  /** A client must send its whole request within this. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** Budgets per client (docs/security.md): open connections in total; more are closed when accepted. */
  maxConnections: number
  /** The share of the connections, GraphQL in-flight slots and subscriptions one client may hold (percent). */
  clientSharePercent: number
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; empty = the header is ignored. */
  trustedProxies: string[]
  /** A request body must have arrived this long after its headers (a minimum rate), or 408. */
  bodyTimeoutMs: number
  /** A subscription stream ends after this, so that clients reconnect (elsewhere); 0 = no limit. */
  subscriptionMaxMs: number
  containerName: string
  database: DatabaseTarget
  /** Connecting (TCP + TLS + authentication) must finish within this, or the attempt fails. */
  connectTimeoutMs: number
  /** A query is cancelled after this, both by the server (statement_timeout) and by the client. */
  queryTimeoutMs: number
  /** A health check answers within this, healthy or not. */
  healthTimeoutMs: number
  /** 0 = every health check is live; above 0, a report this young is reused. */
  healthCacheMs: number
  poolMax: number
  /** The background monitor checks the database this often (faster, with backoff, while it is down). */
  healthIntervalMs: number
  /** Not ready once no check has succeeded for this many intervals. */
  healthStaleIntervals: number
  /** health+json says `warn` when a check takes longer than this. */
  healthWarnLatencyMs: number
  /** health+json says `warn` when this share of the pool is in use, in percent. */
  healthWarnPoolPercent: number
  /** health+json shows the failure reason and versions only when this is on. */
  healthDetails: boolean
  /** The monitor turns unhealthy (not ready) after this many consecutive failed checks. */
  healthFailuresBeforeUnready: number
  /** ...and healthy (ready) again after this many consecutive successful ones. */
  healthSuccessesBeforeReady: number
  /** health+json says `warn` after this many consecutive slow (or saturated) checks, and clears after as many normal ones. */
  healthChecksBeforeWarn: number
  /** Checks and transitions the monitor remembers, each. */
  healthHistorySize: number
  /** Readiness policy: a standby is not ready. */
  healthRequirePrimary: boolean
  /** Readiness policy: a standby whose replay lags more than this is not ready; 0 = no limit. */
  healthMaxReplayLagMs: number
  /** On SIGTERM, readiness turns 503 at once; the server keeps serving this long before it stops accepting. */
  shutdownDrainMs: number
  shutdownTimeoutMs: number
  logLevel: LogLevel
  /** OpenTelemetry traces over OTLP/HTTP; absent (off) unless an OTLP endpoint is set. */
  tracing?: TracingConfig
}

/** OTEL_TRACES_SAMPLER's values, as the OpenTelemetry specification names them. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const
export type TraceSampler = (typeof TRACE_SAMPLERS)[number]

/** From the standard OTEL_* variables (the exporter reads OTEL_EXPORTER_OTLP_HEADERS and the like itself). */
export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). May carry credentials in its query: log its origin only. */
  endpoint: string
  sampler: TraceSampler
  /** The ratio of the *traceidratio samplers, from 0 to 1. */
  ratio: number
  serviceName: string
  /** Spans are sent in batches this often (OTEL_BSP_SCHEDULE_DELAY). */
  scheduleDelayMs: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A configuration mistake. Its message is one line that names the variable and never holds a secret. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Env = Record<string, string | undefined>

const PASSWORD_FILE_MAX_BYTES = 4096
const DB_PART_NAMES = ['DB_HOST', 'DB_PORT', 'DB_USER', 'DB_NAME', 'DB_PASSWORD', 'DB_PASSWORD_FILE'] as const

export function loadConfig(env: Env = process.env): Config {
  return {
    port: readInteger(env, 'PORT', 5001, 0, 65535),
    host: readString(env, 'HOST') ?? '0.0.0.0',
    tls: readServerTls(env),
    production: env.NODE_ENV === 'production',
    introspection: readBoolean(env, 'GRAPHQL_INTROSPECTION', true),
    graphiql: readBoolean(env, 'GRAPHIQL', true),
    maxBodyBytes: readInteger(env, 'GRAPHQL_MAX_BODY_BYTES', 100_000, 1000, 10_000_000),
    corsOrigins: readOrigins(env, 'CORS_ORIGINS'),
    maxSubscriptions: readInteger(env, 'GRAPHQL_MAX_SUBSCRIPTIONS', 100, 0, 10_000),
    maxInFlight: readInteger(env, 'GRAPHQL_MAX_IN_FLIGHT', 64, 1, 10_000),
    headersTimeoutMs: readInteger(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    requestTimeoutMs: readInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    keepAliveTimeoutMs: readInteger(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    maxConnections: readInteger(env, 'HTTP_MAX_CONNECTIONS', 2000, 1, 100_000),
    clientSharePercent: readInteger(env, 'CLIENT_MAX_SHARE_PERCENT', 25, 1, 100),
    trustedProxies: readProxies(env, 'TRUSTED_PROXIES'),
    bodyTimeoutMs: readInteger(env, 'HTTP_BODY_TIMEOUT_MS', 10_000, 100, 3_600_000),
    subscriptionMaxMs: readInteger(env, 'GRAPHQL_SUBSCRIPTION_MAX_MS', 0, 0, 86_400_000),
    containerName: readString(env, 'CONTAINER_NAME') ?? hostname(),
    database: readDatabaseTarget(env),
    connectTimeoutMs: readInteger(env, 'DB_CONNECT_TIMEOUT_MS', 2000, 100, 600_000),
    queryTimeoutMs: readInteger(env, 'DB_QUERY_TIMEOUT_MS', 5000, 100, 600_000),
    healthTimeoutMs: readInteger(env, 'HEALTH_TIMEOUT_MS', 2000, 100, 600_000),
    healthCacheMs: readInteger(env, 'HEALTH_CACHE_MS', 0, 0, 600_000),
    poolMax: readInteger(env, 'DB_POOL_MAX', 10, 1, 1000),
    healthIntervalMs: readInteger(env, 'HEALTH_INTERVAL_MS', 5000, 100, 3_600_000),
    healthStaleIntervals: readInteger(env, 'HEALTH_STALE_INTERVALS', 3, 1, 1000),
    healthWarnLatencyMs: readInteger(env, 'HEALTH_WARN_LATENCY_MS', 500, 1, 600_000),
    healthWarnPoolPercent: readInteger(env, 'HEALTH_WARN_POOL_PERCENT', 80, 1, 100),
    healthDetails: readBoolean(env, 'HEALTH_DETAILS', false),
    healthFailuresBeforeUnready: readInteger(env, 'HEALTH_FAILURES_BEFORE_UNREADY', 3, 1, 100),
    healthSuccessesBeforeReady: readInteger(env, 'HEALTH_SUCCESSES_BEFORE_READY', 2, 1, 100),
    healthChecksBeforeWarn: readInteger(env, 'HEALTH_CHECKS_BEFORE_WARN', 3, 1, 100),
    healthHistorySize: readInteger(env, 'HEALTH_HISTORY_SIZE', 120, 1, 10_000),
    healthRequirePrimary: readBoolean(env, 'HEALTH_REQUIRE_PRIMARY', false),
    healthMaxReplayLagMs: readInteger(env, 'HEALTH_MAX_REPLAY_LAG_MS', 0, 0, 86_400_000),
    shutdownDrainMs: readInteger(env, 'SHUTDOWN_DRAIN_MS', 0, 0, 600_000),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    tracing: readTracing(env),
  }
}

/**
 * Tracing is off unless an OTLP endpoint is set (and OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none do not
 * turn it off). Every variable is checked either way, so a typo fails at start-up rather than silently.
 */
function readTracing(env: Env): TracingConfig | undefined {
  const disabled = readBoolean(env, 'OTEL_SDK_DISABLED', false)
  const exporter = readChoice(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'], 'otlp')
  readChoice(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', ['http/json'], 'http/json')
  const tracesEndpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const baseEndpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  // Sampled by default: one trace in ten starts here; a caller's sampled traceparent is always followed.
  const sampler = readChoice(env, 'OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_traceidratio')
  const ratio = readRatio(env, 'OTEL_TRACES_SAMPLER_ARG', 0.1)
  const serviceName = readString(env, 'OTEL_SERVICE_NAME') ?? 'ctera-app'
  const scheduleDelayMs = readInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000)
  const endpoint = tracesEndpoint ?? (baseEndpoint && `${baseEndpoint.replace(/\/+$/, '')}/v1/traces`)
  if (disabled || exporter === 'none' || !endpoint) return undefined
  return { endpoint, sampler, ratio, serviceName, scheduleDelayMs }
}

function readUrl(env: Env, name: string): string | undefined {
  const raw = readString(env, name)
  if (raw === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  // Never echo the value: an endpoint may carry a token.
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${name}: must be an http:// or https:// URL`)
  }
  return raw
}

function readRatio(env: Env, name: string, fallback: number): number {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d*\.?\d+$/.test(raw) || value < 0 || value > 1) {
    throw new ConfigError(`${name}: must be a number from 0 to 1 (got ${JSON.stringify(raw.slice(0, 40))})`)
  }
  return value
}

function readDatabaseTarget(env: Env): DatabaseTarget {
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

function readServerTls(env: Env): ServerTls | undefined {
  const certFile = readString(env, 'TLS_CERT_FILE')
  const keyFile = readString(env, 'TLS_KEY_FILE')
  if (!certFile && !keyFile) return undefined
  if (!certFile) throw new ConfigError('TLS_CERT_FILE: required when TLS_KEY_FILE is set')
  if (!keyFile) throw new ConfigError('TLS_KEY_FILE: required when TLS_CERT_FILE is set')
  return { cert: readPemFile('TLS_CERT_FILE', certFile), key: readPemFile('TLS_KEY_FILE', keyFile) }
}

const PEM_MAX_BYTES = 1_000_000

function readPemFile(name: string, file: string): string {
  const contents = readSmallFile(name, file, PEM_MAX_BYTES)
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(`${name}: ${file} is not a PEM file`)
  return contents
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

function readPassword(env: Env): string | undefined {
  const inline = env.DB_PASSWORD
  const file = readString(env, 'DB_PASSWORD_FILE')
  if (inline !== undefined && inline !== '' && file !== undefined) {
    throw new ConfigError('DB_PASSWORD_FILE: DB_PASSWORD is set too; set only one of them')
  }
  if (file === undefined) return inline === '' ? undefined : inline

  const contents = readSmallFile('DB_PASSWORD_FILE', file, PASSWORD_FILE_MAX_BYTES)
  // Docker secrets and `echo pw > file` end with a newline that is not part of the password.
  const password = contents.replace(/\r?\n$/, '')
  if (password === '') throw new ConfigError(`DB_PASSWORD_FILE: ${file} is empty`)
  return password
}

function readSmallFile(name: string, file: string, maxBytes: number): string {
  let size: number
  try {
    const stat = statSync(file)
    if (!stat.isFile()) throw new ConfigError(`${name}: ${file} is not a regular file`)
    size = stat.size
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`${name}: cannot read ${file} (${describeFsError(error)})`)
  }
  if (size > maxBytes) throw new ConfigError(`${name}: ${file} is larger than ${maxBytes} bytes`)
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${describeFsError(error)})`)
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return code ?? 'unreadable'
}

/** A comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
function readProxies(env: Env, name: string): string[] {
  const entries = (readString(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  const { invalid } = parseProxyList(entries)
  if (invalid !== undefined) {
    throw new ConfigError(
      `${name}: ${JSON.stringify(invalid.slice(0, 60))} is not an IP address or CIDR range (such as 10.0.0.0/8)`,
    )
  }
  return entries
}

/** A comma-separated list of exact origins (scheme://host[:port]); `*` is refused: list them. */
function readOrigins(env: Env, name: string): string[] {
  const raw = readString(env, name)
  if (raw === undefined) return []
  return raw
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => {
      let parsed: URL | undefined
      try {
        parsed = new URL(origin)
      } catch {
        parsed = undefined
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        throw new ConfigError(
          `${name}: ${JSON.stringify(origin.slice(0, 80))} is not an origin; list each as scheme://host[:port], no path or trailing slash (no *)`,
        )
      }
      return origin
    })
}

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${name}: must be an integer from ${min} to ${max} (got ${JSON.stringify(raw.slice(0, 40))})`,
    )
  }
  return value
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  if (/^(true|1|yes|on)$/i.test(raw)) return true
  if (/^(false|0|no|off)$/i.test(raw)) return false
  throw new ConfigError(`${name}: must be true or false (got ${JSON.stringify(raw.slice(0, 40))})`)
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  const value = raw.toLowerCase() as T
  if (!choices.includes(value)) {
    throw new ConfigError(
      `${name}: must be one of ${choices.join(', ')} (got ${JSON.stringify(raw.slice(0, 40))})`,
    )
  }
  return value
}
