import { ConfigError, type Env, readString } from './readers.js'
import { readPemFile } from './secret-files.js'

/**
 * TLS to PostgreSQL can be asked for in two places: DATABASE_URL's parameters (sslmode, ssl, sslrootcert)
 * and DB_SSLMODE / DB_SSLROOTCERT. node-postgres lets the URL win silently, so `?sslmode=disable` would
 * turn a verify-full connection into plaintext. Here the two are read together, with libpq's meaning of
 * each mode: when only one place says something it rules, when both do they must agree, and a mode that
 * could end in plaintext (allow, prefer) is refused. The service never passes these parameters on.
 * docs/security.md has the whole table; test/hardening/database-tls.test.ts tries every row.
 */

/** The modes of libpq's sslmode that never fall back to plaintext. */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const
export type SslMode = (typeof SSL_MODES)[number]

/** sslrootcert's libpq value for "the system's trusted CAs" rather than a file. */
export const SYSTEM_ROOT_CERT = 'system'

/** What a DATABASE_URL and the environment say about TLS, as written (undefined = not set). */
export interface TlsSettings {
  url: { sslmode?: string; ssl?: string; sslrootcert?: string; sslcert?: string; sslkey?: string }
  env: { DB_SSLMODE?: string; DB_SSLROOTCERT?: string }
}

/** The connection's TLS, decided: a mode, and where its CA and client certificate come from. */
export interface TlsPlan {
  mode: SslMode
  /** A PEM file, or SYSTEM_ROOT_CERT; with require it makes require check the CA (as libpq does). */
  rootCert?: string
  /** The URL's sslcert and sslkey (client certificate authentication). */
  clientCert?: { certFile: string; keyFile: string }
}

export interface DatabaseTls {
  mode: Exclude<SslMode, 'disable'>
  /**
   * PEM of the CA that signed the server's certificate (DB_SSLROOTCERT or the URL's sslrootcert); with
   * `require` too, it is checked (as libpq does). Absent with verify-full: the system's CAs (`system`).
   */
  ca?: string
  /** The URL's sslcert and sslkey (PEM): a client certificate. */
  cert?: string
  key?: string
}

/** TLS to PostgreSQL from DB_SSLMODE, DB_SSLROOTCERT and DATABASE_URL's parameters, files read. */
export function readDatabaseTls(env: Env, url: TlsSettings['url']): DatabaseTls | undefined {
  // node-postgres reads PGSSLMODE when it is given no TLS settings: a third place that could disagree.
  if (readString(env, 'PGSSLMODE')) {
    throw new ConfigError(
      'PGSSLMODE: not read by ctera-app; set DB_SSLMODE (or sslmode in DATABASE_URL) instead',
    )
  }
  const rootCertFile = readString(env, 'DB_SSLROOTCERT')
  const plan = planDatabaseTls({
    url,
    env: { DB_SSLMODE: readString(env, 'DB_SSLMODE'), DB_SSLROOTCERT: rootCertFile },
  })
  if (plan.mode === 'disable') return undefined
  const rootName = rootCertFile ? 'DB_SSLROOTCERT' : "DATABASE_URL's sslrootcert"
  const client = plan.clientCert
  return {
    mode: plan.mode,
    ...(plan.rootCert && plan.rootCert !== SYSTEM_ROOT_CERT
      ? { ca: readPemFile(rootName, plan.rootCert) }
      : {}),
    ...(client
      ? {
          cert: readPemFile("DATABASE_URL's sslcert", client.certFile),
          key: readPemFile("DATABASE_URL's sslkey", client.keyFile),
        }
      : {}),
  }
}

/** DATABASE_URL's query parameters that this module reads; the service removes them from the URL. */
export const URL_TLS_PARAMETERS = [
  'sslmode',
  'ssl',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'uselibpqcompat',
] as const

interface Said {
  mode?: SslMode
  /** How the setting was written, for messages: `DB_SSLMODE=require`, `DATABASE_URL's ssl=true`. */
  as?: string
}

export function planDatabaseTls({ url, env }: TlsSettings): TlsPlan {
  const fromUrl = urlMode(url)
  const fromEnv: Said = env.DB_SSLMODE
    ? { mode: envMode(env.DB_SSLMODE), as: `DB_SSLMODE=${env.DB_SSLMODE}` }
    : {}
  if (fromUrl.mode && fromEnv.mode && fromUrl.mode !== fromEnv.mode) {
    throw new ConfigError(
      `${fromEnv.as} and ${fromUrl.as} disagree; set the mode in one place, or the same in both`,
    )
  }
  if (url.sslrootcert && env.DB_SSLROOTCERT && url.sslrootcert !== env.DB_SSLROOTCERT) {
    throw new ConfigError(
      `DB_SSLROOTCERT=${env.DB_SSLROOTCERT} and DATABASE_URL's sslrootcert=${url.sslrootcert} disagree; set the CA in one place, or the same in both`,
    )
  }
  const mode = fromEnv.mode ?? fromUrl.mode ?? 'disable'
  // ssl=true alone is node-postgres's "verify against the system's CAs": verify-full, system roots by default.
  const sslTrueAlone = fromUrl.mode === 'verify-full' && url.sslmode === undefined
  const rootCert = env.DB_SSLROOTCERT ?? url.sslrootcert ?? (sslTrueAlone ? SYSTEM_ROOT_CERT : undefined)
  const rootCertAs = env.DB_SSLROOTCERT ? 'DB_SSLROOTCERT' : "DATABASE_URL's sslrootcert"
  const modeAs = fromEnv.as ?? fromUrl.as ?? 'DB_SSLMODE is disable'

  if (mode === 'disable') {
    if (rootCert) {
      throw new ConfigError(`${rootCertAs}: set, but TLS is off (${modeAs}); set DB_SSLMODE=verify-full`)
    }
    if (url.sslcert || url.sslkey) {
      throw new ConfigError(
        `DATABASE_URL's sslcert/sslkey are set but TLS is off (${modeAs}); set a TLS mode`,
      )
    }
    return { mode }
  }
  if ((mode === 'verify-ca' || mode === 'verify-full') && !rootCert) {
    throw new ConfigError(
      `DB_SSLROOTCERT: required with ${modeAs} (the CA certificate, PEM; or "system", the system's CAs, with verify-full)`,
    )
  }
  // As libpq: the system's CAs sign certificates for anyone, so only a host name check makes them mean something.
  if (rootCert === SYSTEM_ROOT_CERT && mode !== 'verify-full') {
    throw new ConfigError(
      `${rootCertAs}=system needs verify-full (${modeAs} would accept any certificate the system trusts)`,
    )
  }
  if (Boolean(url.sslcert) !== Boolean(url.sslkey)) {
    throw new ConfigError("DATABASE_URL's sslcert and sslkey go together; set both or neither")
  }
  return {
    mode,
    ...(rootCert ? { rootCert } : {}),
    ...(url.sslcert && url.sslkey ? { clientCert: { certFile: url.sslcert, keyFile: url.sslkey } } : {}),
  }
}

function envMode(value: string): SslMode {
  const mode = value.toLowerCase() as SslMode
  if (SSL_MODES.includes(mode)) return mode
  throw new ConfigError(
    `DB_SSLMODE: must be one of ${SSL_MODES.join(', ')} (got ${JSON.stringify(value.slice(0, 40))})`,
  )
}

function urlMode(url: TlsSettings['url']): Said {
  const sslmode = url.sslmode === undefined ? undefined : urlSslmode(url.sslmode)
  const ssl = url.ssl === undefined ? undefined : urlSsl(url.ssl)
  if (sslmode && ssl && (sslmode.mode === 'disable') !== (ssl.mode === 'disable')) {
    throw new ConfigError(`DATABASE_URL's ssl=${url.ssl} and sslmode=${url.sslmode} disagree; keep one`)
  }
  return sslmode ?? ssl ?? {}
}

function urlSslmode(value: string): Said {
  const as = `DATABASE_URL's sslmode=${value.slice(0, 40)}`
  if (value === 'no-verify') return { mode: 'require', as } // node-postgres's name for libpq's require
  if (value === 'allow' || value === 'prefer') {
    throw new ConfigError(
      `${as} may fall back to plaintext, which this service never does; use disable, require, verify-ca or verify-full`,
    )
  }
  if (!SSL_MODES.includes(value as SslMode)) {
    throw new ConfigError(`${as}: not a mode; use disable, require, verify-ca or verify-full`)
  }
  return { mode: value as SslMode, as }
}

function urlSsl(value: string): Said {
  // node-postgres reads only true and 1 (and lets "false" turn TLS on); both spellings mean what they say here.
  if (value === 'true' || value === '1') return { mode: 'verify-full', as: "DATABASE_URL's ssl=true" }
  if (value === 'false' || value === '0') return { mode: 'disable', as: "DATABASE_URL's ssl=false" }
  throw new ConfigError(`DATABASE_URL's ssl=${value.slice(0, 40)}: use true or false (or sslmode)`)
}

/**
 * DATABASE_URL's TLS parameters, read as node-postgres reads them (WHATWG URL query), and the URL without
 * them, the rest untouched, to hand to node-postgres.
 */
export function splitTlsParameters(url: string): { url: string; tls: TlsSettings['url'] } {
  const queryAt = url.indexOf('?')
  if (queryAt < 0) return { url, tls: {} }
  const tls: Record<string, string> = {}
  const kept: string[] = []
  for (const pair of url.slice(queryAt + 1).split('&')) {
    const [name = '', value = ''] = [...new URLSearchParams(pair).entries()][0] ?? []
    if ((URL_TLS_PARAMETERS as readonly string[]).includes(name)) tls[name] = value
    else if (pair !== '') kept.push(pair)
  }
  return { url: kept.length ? `${url.slice(0, queryAt)}?${kept.join('&')}` : url.slice(0, queryAt), tls }
}
