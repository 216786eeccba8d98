import { readFileSync, statSync } from 'node:fs'
import { ConfigError, type Env, readString } from './readers.js'

const PASSWORD_FILE_MAX_BYTES = 4096
const PEM_MAX_BYTES = 1_000_000

/** DB_PASSWORD or DB_PASSWORD_FILE (a Docker or Kubernetes secret), never both. */
export function readPassword(env: Env): string | undefined {
  const inline = env.DB_PASSWORD
  const file = readString(env, 'DB_PASSWORD_FILE')
  if (inline !== undefined && inline !== '' && file !== undefined) {
    throw new ConfigError('DB_PASSWORD_FILE: DB_PASSWORD is set too; set only one of them')
  }
  if (file === undefined) return inline === '' ? undefined : inline
  return readSecretFile('DB_PASSWORD_FILE', file)
}

/** A one-line secret kept in a file: the file must exist, be small and hold something. */
export function readSecretFile(name: string, file: string): string {
  const contents = readSmallFile(name, file, PASSWORD_FILE_MAX_BYTES)
  // Docker secrets and `echo pw > file` end with a newline that is not part of the secret.
  const secret = contents.replace(/\r?\n$/, '')
  if (secret === '') throw new ConfigError(`${name}: ${file} is empty`)
  return secret
}

export function readPemFile(name: string, file: string): string {
  const contents = readSmallFile(name, file, PEM_MAX_BYTES)
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(`${name}: ${file} is not a PEM file`)
  return contents
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
