import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError, type Env } from '../../src/config/readers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctera-config-'))
})

function configError(env: Env): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('defaults to port 5001 on all interfaces, the host name, and the embedded database', () => {
    const config = loadConfig({})

    expect(config).toMatchObject({
      port: 5001,
      host: '0.0.0.0',
      containerName: hostname(),
      database: { kind: 'embedded', dataDir: '.data' },
      connectTimeoutMs: 2000,
      healthTimeoutMs: 2000,
      healthCacheMs: 0,
      logLevel: 'info',
      corsOrigins: [],
      maxSubscriptions: 100,
      maxInFlight: 64,
    })
  })

  it('shares connections, GraphQL slots and subscriptions per client, trusting no proxy by default', () => {
    expect(loadConfig({})).toMatchObject({
      maxConnections: 2000,
      clientSharePercent: 25,
      trustedProxies: [],
      bodyTimeoutMs: 10_000,
      subscriptionMaxMs: 0,
    })
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, fd00::/8,192.168.1.10 ' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.10',
    ])
  })

  it('damps health changes by default (3 failures, 2 successes, 3 slow checks) with no readiness policy', () => {
    expect(loadConfig({})).toMatchObject({
      healthFailuresBeforeUnready: 3,
      healthSuccessesBeforeReady: 2,
      healthChecksBeforeWarn: 3,
      healthHistorySize: 120,
      healthRequirePrimary: false,
      healthMaxReplayLagMs: 0,
    })
  })

  it('traces only when an OTLP endpoint is set, sampling one new trace in ten by default', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }

    expect(loadConfig({}).tracing).toBeUndefined()
    expect(loadConfig(base).tracing).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      sampler: 'parentbased_traceidratio',
      ratio: 0.1,
      serviceName: 'ctera-app',
      scheduleDelayMs: 5000,
    })
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t/x' }).tracing?.endpoint).toBe(
      'https://t/x',
    )
    expect(loadConfig({ ...base, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined()
    expect(loadConfig({ ...base, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined()
  })

  it('never echoes an OTLP endpoint in its error (it may carry a token)', () => {
    expect(configError({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://secret-token@x' })).not.toContain(
      'secret',
    )
  })

  it('reads CORS_ORIGINS as a list of exact origins, and GRAPHQL_MAX_SUBSCRIPTIONS', () => {
    const config = loadConfig({
      CORS_ORIGINS: ' https://dashboard.example , http://localhost:3000',
      GRAPHQL_MAX_SUBSCRIPTIONS: '0',
    })

    expect(config.corsOrigins).toEqual(['https://dashboard.example', 'http://localhost:3000'])
    expect(config.maxSubscriptions).toBe(0)
  })

  it("reads the seed's DB_* variables", () => {
    const config = loadConfig({
      DB_HOST: 'db',
      DB_PORT: '6543',
      DB_USER: 'ctera',
      DB_NAME: 'app',
      DB_PASSWORD: 'pw',
      CONTAINER_NAME: 'flask-app',
    })

    expect(config.containerName).toBe('flask-app')
    expect(config.database).toEqual({
      kind: 'external',
      host: 'db',
      port: 6543,
      user: 'ctera',
      database: 'app',
      password: 'pw',
    })
  })

  it('reads the password from DB_PASSWORD_FILE and trims one trailing newline', async () => {
    const file = join(dir, 'secret')
    await writeFile(file, ' s3cret with spaces \n')

    const config = loadConfig({ DB_HOST: 'db', DB_PASSWORD_FILE: file })

    expect(config.database).toMatchObject({ password: ' s3cret with spaces ' })
  })

  it('lets DATABASE_URL win over the DB_* parts', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@h:1234/d', DB_HOST: 'ignored', DB_PORT: 'x' })

    expect(config.database).toMatchObject({
      kind: 'external',
      host: 'h',
      port: 1234,
      user: 'u',
      database: 'd',
    })
  })

  it.each([
    [{ PORT: 'abc' }, /^PORT: must be an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ PORT: '-1' }, /^PORT: /],
    [{ PORT: '5001.5' }, /^PORT: /],
    [{ DB_HOST: 'db', DB_PORT: '0' }, /^DB_PORT: must be an integer from 1 to 65535/],
    [{ HEALTH_TIMEOUT_MS: '10' }, /^HEALTH_TIMEOUT_MS: must be an integer from 100/],
    [{ DB_POOL_MAX: '0' }, /^DB_POOL_MAX: /],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      /^OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:\/\/ or https:\/\/ URL$/,
    ],
    [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /^OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, /^OTEL_TRACES_SAMPLER: must be one of always_on, always_off, /],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /^OTEL_TRACES_EXPORTER: must be one of otlp, none/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /^OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http\/json/],
    [
      { HEALTH_FAILURES_BEFORE_UNREADY: '0' },
      /^HEALTH_FAILURES_BEFORE_UNREADY: must be an integer from 1 to 100/,
    ],
    [
      { HEALTH_SUCCESSES_BEFORE_READY: '101' },
      /^HEALTH_SUCCESSES_BEFORE_READY: must be an integer from 1 to 100/,
    ],
    [{ HEALTH_CHECKS_BEFORE_WARN: 'three' }, /^HEALTH_CHECKS_BEFORE_WARN: must be an integer from 1 to 100/],
    [{ HEALTH_HISTORY_SIZE: '100000' }, /^HEALTH_HISTORY_SIZE: must be an integer from 1 to 10000 /],
    [{ HEALTH_REQUIRE_PRIMARY: 'primary' }, /^HEALTH_REQUIRE_PRIMARY: must be true or false/],
    [{ HEALTH_MAX_REPLAY_LAG_MS: '-5' }, /^HEALTH_MAX_REPLAY_LAG_MS: must be an integer from 0 to 86400000/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ DB_USER: 'ctera' }, /^DB_HOST: required when DB_USER is set/],
    [
      { DB_HOST: 'db', DB_PASSWORD: 'a', DB_PASSWORD_FILE: '/x' },
      /^DB_PASSWORD_FILE: DB_PASSWORD is set too/,
    ],
    [
      { DB_HOST: 'db', DB_PASSWORD_FILE: '/no/such/file' },
      /^DB_PASSWORD_FILE: cannot read \/no\/such\/file \(no such file\)$/,
    ],
    [{ DB_HOST: 'db', DB_PASSWORD_FILE: '/tmp' }, /^DB_PASSWORD_FILE: \/tmp is not a regular file$/],
    [
      { DB_HOST: 'db', DB_SSLMODE: 'prefer' },
      /^DB_SSLMODE: must be one of disable, require, verify-ca, verify-full/,
    ],
    [{ DB_HOST: 'db', DB_SSLMODE: 'verify-full' }, /^DB_SSLROOTCERT: required with DB_SSLMODE=verify-full/],
    [
      { DB_HOST: 'db', DB_SSLROOTCERT: '/etc/hostname' },
      /^DB_SSLROOTCERT: set, but TLS is off \(DB_SSLMODE is disable\)/,
    ],
    [
      {
        DATABASE_URL: 'postgres://u@h/d?sslmode=disable',
        DB_SSLMODE: 'verify-full',
        DB_SSLROOTCERT: '/etc/hostname',
      },
      /^DB_SSLMODE=verify-full and DATABASE_URL's sslmode=disable disagree/,
    ],
    [
      { DATABASE_URL: 'postgres://u@h/d?sslmode=verify-full&sslrootcert=/no/ca.pem' },
      /^DATABASE_URL's sslrootcert: cannot read \/no\/ca.pem \(no such file\)$/,
    ],
    [
      { DB_HOST: 'db', DB_SSLMODE: 'verify-ca', DB_SSLROOTCERT: '/etc/hostname' },
      /^DB_SSLROOTCERT: \/etc\/hostname is not a PEM file$/,
    ],
    [{ TLS_CERT_FILE: '/etc/hostname' }, /^TLS_KEY_FILE: required when TLS_CERT_FILE is set$/],
    [{ TLS_KEY_FILE: '/etc/hostname' }, /^TLS_CERT_FILE: required when TLS_KEY_FILE is set$/],
    [
      { TLS_CERT_FILE: '/no/cert', TLS_KEY_FILE: '/no/key' },
      /^TLS_CERT_FILE: cannot read \/no\/cert \(no such file\)$/,
    ],
    [{ GRAPHIQL: 'maybe' }, /^GRAPHIQL: must be true or false/],
    [{ GRAPHQL_MAX_BODY_BYTES: '10' }, /^GRAPHQL_MAX_BODY_BYTES: must be an integer from 1000/],
    [{ CORS_ORIGINS: '*' }, /^CORS_ORIGINS: "\*" is not an origin; list each as scheme:\/\/host\[:port\]/],
    [{ CORS_ORIGINS: 'https://a.example/' }, /^CORS_ORIGINS: "https:\/\/a.example\/" is not an origin/],
    [{ CORS_ORIGINS: 'https://ok.example,ftp://files.example' }, /^CORS_ORIGINS: "ftp:\/\/files.example"/],
    [{ GRAPHQL_MAX_IN_FLIGHT: '0' }, /^GRAPHQL_MAX_IN_FLIGHT: must be an integer from 1 to 10000/],
    [{ GRAPHQL_MAX_SUBSCRIPTIONS: '-1' }, /^GRAPHQL_MAX_SUBSCRIPTIONS: must be an integer from 0 to 10000/],
    [{ HTTP_MAX_CONNECTIONS: '0' }, /^HTTP_MAX_CONNECTIONS: must be an integer from 1 to 100000/],
    [{ CLIENT_MAX_SHARE_PERCENT: '101' }, /^CLIENT_MAX_SHARE_PERCENT: must be an integer from 1 to 100/],
    [{ HTTP_BODY_TIMEOUT_MS: '5s' }, /^HTTP_BODY_TIMEOUT_MS: must be an integer/],
    [{ GRAPHQL_SUBSCRIPTION_MAX_MS: '-5' }, /^GRAPHQL_SUBSCRIPTION_MAX_MS: must be an integer from 0/],
    [{ TRUSTED_PROXIES: 'nginx' }, /^TRUSTED_PROXIES: "nginx" is not an IP address or CIDR range/],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /^TRUSTED_PROXIES: "10.0.0.0\/33" is not an IP address/],
    [{ TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/8/1' }, /^TRUSTED_PROXIES: "10.0.0.0\/8\/1"/],
  ])('rejects %j with one line naming the variable', (env, message) => {
    const text = configError(env as Env)

    expect(text).toMatch(message)
    expect(text).not.toContain('\n')
  })

  it('rejects an empty password file', async () => {
    const file = join(dir, 'empty')
    await writeFile(file, '\n')

    expect(configError({ DB_HOST: 'db', DB_PASSWORD_FILE: file })).toBe(`DB_PASSWORD_FILE: ${file} is empty`)
  })

  it('rejects an oversized password file', async () => {
    const file = join(dir, 'huge')
    await writeFile(file, 'x'.repeat(10_000))

    expect(configError({ DB_HOST: 'db', DB_PASSWORD_FILE: file })).toMatch(/larger than 4096 bytes/)
  })

  it('rejects an unreadable password file when not root', async () => {
    const file = join(dir, 'locked')
    await writeFile(file, 'pw')
    await chmod(file, 0o000)

    // root reads any file; the process-level test covers this as an unprivileged user.
    if (process.getuid?.() === 0) {
      expect(loadConfig({ DB_HOST: 'db', DB_PASSWORD_FILE: file }).database).toMatchObject({ password: 'pw' })
    } else {
      expect(configError({ DB_HOST: 'db', DB_PASSWORD_FILE: file })).toMatch(/permission denied/)
    }
  })

  it('never echoes DATABASE_URL, which may hold the password', () => {
    const text = configError({ DATABASE_URL: 'mysql://user:hunter2@host/db' })

    expect(text).toBe('DATABASE_URL: not a valid postgres:// or postgresql:// URL')
    expect(text).not.toContain('hunter2')
  })
})
