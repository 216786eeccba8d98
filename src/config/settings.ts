import { hostname } from 'node:os'
import { readAuthToken } from './auth-token.js'
import { type DatabaseTarget, readDatabaseTarget } from './database-target.js'
import {
  type Env,
  readBoolean,
  readChoice,
  readInteger,
  readOrigins,
  readProxies,
  readString,
} from './readers.js'
import { readServerTls, type ServerTls } from './server-tls.js'
import { readTracing, TRACE_SAMPLERS, type TracingConfig } from './tracing-settings.js'

/** One environment variable as docs/configuration.md shows it (generated from this table). */
export interface Variable {
  name: string
  /** As shown; empty when unset means "off" or "not used". */
  default: string
  /** What values are accepted, e.g. `0–65535` or `true, false`. */
  values: string
  /** What it does, in a sentence or two. Markdown, with links relative to docs/. */
  meaning: string
}

/** A field of Config: how it is read, and the variables that hold it. */
export interface Setting<T> {
  read(env: Env): T
  variables: Variable[]
}

const integer = (
  name: string,
  fallback: number,
  min: number,
  max: number,
  meaning: string,
): Setting<number> => ({
  read: (env) => readInteger(env, name, fallback, min, max),
  variables: [{ name, default: String(fallback), values: `${min}–${max}`, meaning }],
})

const boolean = (name: string, fallback: boolean, meaning: string): Setting<boolean> => ({
  read: (env) => readBoolean(env, name, fallback),
  variables: [{ name, default: String(fallback), values: 'true, false', meaning }],
})

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * Every setting the service reads, in the order docs/configuration.md lists them: the one place a
 * variable's name, default, bounds and meaning are written. Config's type, loadConfig, the docs table
 * (npm run docs:config, checked by a test) and the tests' list of names all come from it.
 */
export const SETTINGS = {
  port: integer('PORT', 5001, 0, 65535, 'HTTP port (0 = any free port).'),
  host: {
    read: (env) => readString(env, 'HOST') ?? '0.0.0.0',
    variables: [{ name: 'HOST', default: '0.0.0.0', values: 'an address', meaning: 'Address to listen on.' }],
  } satisfies Setting<string>,
  tls: {
    read: readServerTls,
    variables: [
      {
        name: 'TLS_CERT_FILE',
        default: '',
        values: 'a PEM file',
        meaning: 'Serve HTTPS with this certificate and `TLS_KEY_FILE`; both or neither.',
      },
      {
        name: 'TLS_KEY_FILE',
        default: '',
        values: 'a PEM file',
        meaning: 'The private key of `TLS_CERT_FILE`.',
      },
    ],
  } satisfies Setting<ServerTls | undefined>,
  production: {
    read: (env) => env.NODE_ENV === 'production',
    variables: [
      {
        name: 'NODE_ENV',
        default: '',
        values: 'production, …',
        meaning: '`production` hides GraphQL field suggestions ("Did you mean ...?"). The image sets it.',
      },
    ],
  } satisfies Setting<boolean>,
  introspection: boolean(
    'GRAPHQL_INTROSPECTION',
    true,
    '`false` refuses introspection queries (and hides field suggestions).',
  ),
  graphiql: boolean(
    'GRAPHIQL',
    true,
    '`false` stops serving the GraphiQL playground at `GET /graphql` (and its assets under `/graphiql/`). Its default per deployment: [GraphiQL](operations.md#graphiql).',
  ),
  maxBodyBytes: integer(
    'GRAPHQL_MAX_BODY_BYTES',
    100_000,
    1000,
    10_000_000,
    'Larger POST bodies to `/graphql` get 413; a body without a length gets 411.',
  ),
  maxInFlight: integer(
    'GRAPHQL_MAX_IN_FLIGHT',
    64,
    1,
    10_000,
    'GraphQL requests being read or run at once; more are refused at once with 503 `SERVER_BUSY` (`Retry-After: 1`) before their body is parsed (it is read and thrown away, as for a 413); a client over its share (`CLIENT_MAX_SHARE_PERCENT`) gets 429 `TOO_MANY_REQUESTS`. Bounds memory: see [Security](security.md#memory-ceiling). A subscription counts only until its stream opens.',
  ),
  maxSubscriptions: integer(
    'GRAPHQL_MAX_SUBSCRIPTIONS',
    100,
    0,
    10_000,
    'Live subscriptions (SSE streams) open at once; the next is refused with 503 `TOO_MANY_SUBSCRIPTIONS` (`Retry-After: 30`), or 429 with the same code for a client over its share. `0` refuses every subscription.',
  ),
  corsOrigins: {
    read: (env) => readOrigins(env, 'CORS_ORIGINS'),
    variables: [
      {
        name: 'CORS_ORIGINS',
        default: '(empty: CORS off)',
        values: 'origins, comma-separated',
        meaning:
          'Browser origins allowed to call `/graphql`, each exactly `scheme://host[:port]` (no path, no `*`), e.g. `https://dashboard.example.com,http://localhost:3000`. Never with credentials; other origins get no CORS headers.',
      },
    ],
  } satisfies Setting<string[]>,
  authToken: {
    read: readAuthToken,
    variables: [
      {
        name: 'AUTH_TOKEN_FILE',
        default: '(none: everything open)',
        values: 'a file',
        meaning:
          "File holding a bearer token (a Docker or Kubernetes secret); one trailing newline is trimmed. With it, everything but `/health` (the seed's body), `/number_of_tables`, `/livez`, `/readyz`, GraphiQL's page and `OPTIONS` answers 401 unless the request carries `Authorization: Bearer <token>`. One line of 16 or more of `A-Z a-z 0-9 - . _ ~ + /` (e.g. `openssl rand -hex 32`); a missing, empty, unreadable or malformed file stops the start. Read once: restart to change it. [Security](security.md#who-may-see-what-the-bearer-token).",
      },
    ],
  } satisfies Setting<string | undefined>,
  headersTimeoutMs: integer(
    'HTTP_HEADERS_TIMEOUT_MS',
    10_000,
    100,
    600_000,
    'A client must send its request headers within this, or gets 408 (slowloris).',
  ),
  requestTimeoutMs: integer(
    'HTTP_REQUEST_TIMEOUT_MS',
    30_000,
    100,
    3_600_000,
    'A client must send its whole request within this.',
  ),
  keepAliveTimeoutMs: integer(
    'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    5000,
    100,
    600_000,
    'Idle keep-alive connections close after this.',
  ),
  // Budgets per client (docs/security.md#budgets-per-client).
  bodyTimeoutMs: integer(
    'HTTP_BODY_TIMEOUT_MS',
    10_000,
    100,
    3_600_000,
    "A GraphQL request's whole body must arrive within this of its headers (a minimum rate: 10 KB/s for a 100 KB body), or 408 and the connection closes.",
  ),
  maxConnections: integer(
    'HTTP_MAX_CONNECTIONS',
    2000,
    1,
    100_000,
    'Open connections at once. At the limit, the oldest connection with no request in progress is closed to make room for a new one; a request being answered is never cut.',
  ),
  clientSharePercent: integer(
    'CLIENT_MAX_SHARE_PERCENT',
    25,
    1,
    100,
    "The share of the connections, GraphQL in-flight slots and subscriptions one client address may hold (at least one of each); `100` turns the shares off. Behind a proxy set `TRUSTED_PROXIES`, or every client shares the proxy's share.",
  ),
  trustedProxies: {
    read: (env) => readProxies(env, 'TRUSTED_PROXIES'),
    variables: [
      {
        name: 'TRUSTED_PROXIES',
        default: '(empty: none)',
        values: 'addresses and CIDR ranges, comma-separated',
        meaning:
          'The proxies in front (`10.0.0.7`, `10.42.0.0/16`, `fd00::/8`). From them, the client is the nearest address in `X-Forwarded-For` that is not a proxy; from anyone else the header is ignored.',
      },
    ],
  } satisfies Setting<string[]>,
  subscriptionMaxMs: integer(
    'GRAPHQL_SUBSCRIPTION_MAX_MS',
    0,
    0,
    86_400_000,
    'A subscription stream ends (as a completed subscription) after this long, so that clients reconnect, possibly to another replica; `0` = no limit.',
  ),
  containerName: {
    read: (env) => readString(env, 'CONTAINER_NAME') ?? hostname(),
    variables: [
      {
        name: 'CONTAINER_NAME',
        default: 'the host name',
        values: 'text',
        meaning: 'The `container` field of `/health`.',
      },
    ],
  } satisfies Setting<string>,
  database: {
    read: readDatabaseTarget,
    variables: [
      {
        name: 'DATABASE_URL',
        default: '',
        values: 'a postgres:// URL',
        meaning:
          '`postgres://user:password@host:5432/db`. Wins over the `DB_*` variables. Its `sslmode`, `ssl` and `sslrootcert` must agree with `DB_SSLMODE` and `DB_SSLROOTCERT` ([every combination](security.md#tls-to-postgresql-every-combination)).',
      },
      {
        name: 'DB_HOST',
        default: '',
        values: 'a host',
        meaning: 'PostgreSQL host. Setting it (or `DATABASE_URL`) turns the embedded database off.',
      },
      { name: 'DB_PORT', default: '5432', values: '1–65535', meaning: 'PostgreSQL port.' },
      { name: 'DB_USER', default: 'postgres', values: 'a role', meaning: 'Login role.' },
      { name: 'DB_NAME', default: 'postgres', values: 'a database', meaning: 'Database name.' },
      {
        name: 'DB_PASSWORD_FILE',
        default: '',
        values: 'a file',
        meaning:
          'File holding the password (a Docker secret: `/run/secrets/db_password`); one trailing newline is trimmed. Read again for each new connection: a rotated password needs no restart ([rotating](operations.md#rotating-the-database-password)).',
      },
      {
        name: 'DB_PASSWORD',
        default: '',
        values: 'text',
        meaning: 'The password itself; set this or `DB_PASSWORD_FILE`, not both.',
      },
      {
        name: 'DB_SSLMODE',
        default: 'disable',
        values: 'disable, require, verify-ca, verify-full',
        meaning:
          '`require` (encrypted; also checked against `DB_SSLROOTCERT` when that is set, as libpq does), `verify-ca` (and signed by `DB_SSLROOTCERT`), `verify-full` (and the host name matches).',
      },
      {
        name: 'DB_SSLROOTCERT',
        default: '',
        values: 'a PEM file, or system',
        meaning:
          'The CA certificate for `verify-ca` and `verify-full`; with `require`, it makes `require` check the CA too. `system`: the system\u2019s trusted CAs (with `verify-full` only).',
      },
      {
        name: 'PGSSLMODE',
        default: '',
        values: 'none',
        meaning: 'Refused if set: node-postgres would read it as a third TLS setting. Use `DB_SSLMODE`.',
      },
      {
        name: 'EMBEDDED_DB_DIR',
        default: '.data',
        values: 'a folder',
        meaning: 'Where the embedded PostgreSQL keeps its data (only when no database is configured).',
      },
    ],
  } satisfies Setting<DatabaseTarget>,
  connectTimeoutMs: integer(
    'DB_CONNECT_TIMEOUT_MS',
    2000,
    100,
    600_000,
    'Connecting (TCP, TLS, authentication) must finish within this; a query waits this long at most for a free connection (`DB_QUERY_TIMEOUT_MS` if shorter; then `DATABASE_BUSY`).',
  ),
  queryTimeoutMs: integer(
    'DB_QUERY_TIMEOUT_MS',
    5000,
    100,
    600_000,
    'Queries are cancelled by the server after this (`statement_timeout`: `DATABASE_BUSY`); the client gives up 1 s later if the server says nothing (`DATABASE_UNAVAILABLE`).',
  ),
  poolMax: integer(
    'DB_POOL_MAX',
    10,
    1,
    1000,
    'Most connections the query pool opens. GraphQL\u2019s insight queries may hold all but one; the last stays for the seed\u2019s count ([a busy database](operations.md#a-busy-database)).',
  ),
  healthTimeoutMs: integer(
    'HEALTH_TIMEOUT_MS',
    2000,
    100,
    600_000,
    'A health check answers within this, healthy or not.',
  ),
  healthCacheMs: integer(
    'HEALTH_CACHE_MS',
    0,
    0,
    600_000,
    '0 = every health check is live; above 0, a result this young is served again.',
  ),
  healthIntervalMs: integer(
    'HEALTH_INTERVAL_MS',
    5000,
    100,
    3_600_000,
    "The background monitor checks the database this often (from 250 ms, backing off, while it is down). The health check's connection is also replaced this often, so a database that accepts no new connections is reported within this plus `HEALTH_TIMEOUT_MS`.",
  ),
  healthStaleIntervals: integer(
    'HEALTH_STALE_INTERVALS',
    3,
    1,
    1000,
    '`/readyz` says not ready once no check has succeeded for this many intervals.',
  ),
  healthWarnLatencyMs: integer(
    'HEALTH_WARN_LATENCY_MS',
    500,
    1,
    600_000,
    'health+json says `warn` when a check takes longer than this.',
  ),
  healthWarnPoolPercent: integer(
    'HEALTH_WARN_POOL_PERCENT',
    80,
    1,
    100,
    'health+json says `warn` when this share of the query pool is in use.',
  ),
  healthDetails: boolean(
    'HEALTH_DETAILS',
    false,
    "`true` adds the failure reason, the version and the monitor's last 10 checks and transitions to health+json, and the PostgreSQL version to GraphQL `database { serverVersion }` (null otherwise): they help attackers too.",
  ),
  healthFailuresBeforeUnready: integer(
    'HEALTH_FAILURES_BEFORE_UNREADY',
    3,
    1,
    100,
    'The monitor turns unhealthy, and `/readyz` 503, after this many consecutive failed checks. [Damping](operations.md#damping-how-many-checks-before-a-change).',
  ),
  healthSuccessesBeforeReady: integer(
    'HEALTH_SUCCESSES_BEFORE_READY',
    2,
    1,
    100,
    '...and healthy (ready) again after this many consecutive successful checks.',
  ),
  healthChecksBeforeWarn: integer(
    'HEALTH_CHECKS_BEFORE_WARN',
    3,
    1,
    100,
    'health+json says `warn` after this many consecutive slow or saturated checks, and `pass` again after as many normal ones.',
  ),
  healthHistorySize: integer(
    'HEALTH_HISTORY_SIZE',
    120,
    1,
    10_000,
    'Checks the monitor remembers, and as many transitions (about 10 minutes at the default interval).',
  ),
  healthRequirePrimary: boolean(
    'HEALTH_REQUIRE_PRIMARY',
    false,
    '`true`: not ready while the database is a standby (for writers). [Roles](operations.md#primary-or-standby-and-replay-lag).',
  ),
  healthMaxReplayLagMs: integer(
    'HEALTH_MAX_REPLAY_LAG_MS',
    0,
    0,
    86_400_000,
    "Above 0: not ready while a standby's replay is further behind than this. 0 = no limit.",
  ),
  tracing: {
    read: readTracing,
    variables: [
      {
        name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
        default: '',
        values: 'an http(s) URL',
        meaning:
          'Set this or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` to turn [tracing](operations.md#traces-opentelemetry) on: spans go to `<endpoint>/v1/traces`, OTLP/HTTP with JSON. Off when neither is set.',
      },
      {
        name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
        default: '',
        values: 'an http(s) URL',
        meaning: 'Where spans go, as is (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`).',
      },
      {
        name: 'OTEL_SERVICE_NAME',
        default: 'ctera-app',
        values: 'text',
        meaning: 'The `service.name` of the spans (`OTEL_RESOURCE_ATTRIBUTES` adds more).',
      },
      {
        name: 'OTEL_TRACES_SAMPLER',
        default: 'parentbased_traceidratio',
        values: TRACE_SAMPLERS.join(', '),
        meaning: 'Which traces are sampled, as the OpenTelemetry specification names the samplers.',
      },
      {
        name: 'OTEL_TRACES_SAMPLER_ARG',
        default: '0.1',
        values: '0–1',
        meaning:
          "The ratio of new traces sampled (a caller's sampled `traceparent` is always followed with `parentbased_*`).",
      },
      {
        name: 'OTEL_BSP_SCHEDULE_DELAY',
        default: '5000',
        values: '1–600000',
        meaning: 'Spans are sent in batches this often, in milliseconds.',
      },
      {
        name: 'OTEL_TRACES_EXPORTER',
        default: 'otlp',
        values: 'otlp, none',
        meaning: '`none` turns tracing off whatever the endpoint.',
      },
      {
        name: 'OTEL_EXPORTER_OTLP_PROTOCOL',
        default: 'http/json',
        values: 'http/json',
        meaning: 'Only the OTLP/HTTP JSON encoding, which collectors accept on port 4318.',
      },
      {
        name: 'OTEL_SDK_DISABLED',
        default: 'false',
        values: 'true, false',
        meaning: '`true` turns tracing off whatever the endpoint.',
      },
    ],
  } satisfies Setting<TracingConfig | undefined>,
  shutdownDrainMs: integer(
    'SHUTDOWN_DRAIN_MS',
    0,
    0,
    600_000,
    "On SIGTERM/SIGINT/SIGHUP, readiness turns 503 at once and the server keeps serving this long before it stops accepting (set it to your load balancer's probe period).",
  ),
  shutdownTimeoutMs: integer(
    'SHUTDOWN_TIMEOUT_MS',
    10_000,
    0,
    600_000,
    'Then in-flight requests get this long to finish.',
  ),
  logLevel: {
    read: (env) => readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    variables: [
      { name: 'LOG_LEVEL', default: 'info', values: LOG_LEVELS.join(', '), meaning: 'How much is logged.' },
    ],
  } satisfies Setting<LogLevel>,
}
