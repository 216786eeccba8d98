import { ConfigError, type Env, readString } from './readers.js'
import { readPemFile } from './secret-files.js'

/** HTTPS for the service itself, from TLS_CERT_FILE and TLS_KEY_FILE (PEM). */
export interface ServerTls {
  cert: string
  key: string
}

export function readServerTls(env: Env): ServerTls | undefined {
  const certFile = readString(env, 'TLS_CERT_FILE')
  const keyFile = readString(env, 'TLS_KEY_FILE')
  if (!certFile && !keyFile) return undefined
  if (!certFile) throw new ConfigError('TLS_CERT_FILE: required when TLS_KEY_FILE is set')
  if (!keyFile) throw new ConfigError('TLS_KEY_FILE: required when TLS_CERT_FILE is set')
  return { cert: readPemFile('TLS_CERT_FILE', certFile), key: readPemFile('TLS_KEY_FILE', keyFile) }
}
