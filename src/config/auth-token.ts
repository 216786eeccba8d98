import { ConfigError, type Env, readString } from './readers.js'
import { readSecretFile } from './secret-files.js'

// RFC 6750's b64token: what a client can send after "Bearer " as it is. 16 characters at least: guessable otherwise.
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]{16,}=*$/

/** AUTH_TOKEN_FILE: the bearer token that guards everything beyond the seed's routes and the probes. */
export function readAuthToken(env: Env): string | undefined {
  const file = readString(env, 'AUTH_TOKEN_FILE')
  if (file === undefined) return undefined
  const token = readSecretFile('AUTH_TOKEN_FILE', file)
  // Never echo the file's contents: a near-miss is still most of a secret.
  if (!BEARER_TOKEN.test(token)) {
    throw new ConfigError(
      `AUTH_TOKEN_FILE: ${file} must hold one line of 16 or more letters, digits or -._~+/ (e.g. openssl rand -hex 32)`,
    )
  }
  return token
}
