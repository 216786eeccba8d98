import { readFile } from 'node:fs/promises'
import type { Logger } from '../logger.js'

const MAX_BYTES = 4096

/**
 * The password for each new connection, read from DB_PASSWORD_FILE again every time (node-postgres calls
 * this once per connection it opens: a few a minute). A rotated password, a Kubernetes secret updated in
 * place or an edited file, takes effect on the next connection, with no restart; existing sessions keep
 * the password they logged in with, as PostgreSQL lets them. A file that cannot be read for a moment (an
 * editor rewriting it) or is empty keeps the last good password. The password itself is never logged.
 */
export function passwordFromFile(
  file: string,
  startingPassword: string,
  logger: Logger,
): () => Promise<string> {
  let current = startingPassword
  let problem: string | undefined
  return async () => {
    let read: string
    try {
      const contents = await readFile(file, 'utf8')
      if (contents.length > MAX_BYTES) throw Object.assign(new Error('too large'), { code: 'too large' })
      // As at start-up: one trailing newline (Docker secrets, `echo pw > file`) is not part of the password.
      read = contents.replace(/\r?\n$/, '')
      if (read === '') throw Object.assign(new Error('empty'), { code: 'empty' })
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable'
      // Once per kind of trouble: a connection attempt every interval must not repeat the line.
      if (problem !== reason)
        logger.warn({ file, reason }, 'cannot read DB_PASSWORD_FILE: using the last password read')
      problem = reason
      return current
    }
    problem = undefined
    if (read !== current) {
      logger.info({ file }, 'DB_PASSWORD_FILE changed: new connections use the new password')
      current = read
    }
    return current
  }
}
