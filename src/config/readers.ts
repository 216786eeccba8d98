import { parseProxyList } from '../http/client-address.js'

/** A configuration mistake. Its message is one line that names the variable and never holds a secret. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Env = Record<string, string | undefined>

export function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

export function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
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

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  if (/^(true|1|yes|on)$/i.test(raw)) return true
  if (/^(false|0|no|off)$/i.test(raw)) return false
  throw new ConfigError(`${name}: must be true or false (got ${JSON.stringify(raw.slice(0, 40))})`)
}

export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
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

export function readRatio(env: Env, name: string, fallback: number): number {
  const raw = readString(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d*\.?\d+$/.test(raw) || value < 0 || value > 1) {
    throw new ConfigError(`${name}: must be a number from 0 to 1 (got ${JSON.stringify(raw.slice(0, 40))})`)
  }
  return value
}

export function readUrl(env: Env, name: string): string | undefined {
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

/** A comma-separated list of exact origins (scheme://host[:port]); `*` is refused: list them. */
export function readOrigins(env: Env, name: string): string[] {
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

/** A comma-separated list of IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
export function readProxies(env: Env, name: string): string[] {
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
