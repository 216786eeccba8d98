import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ConnectionSettings } from '../src/config/database-target.js'

const ROOT = resolve(import.meta.dirname, '..')

/**
 * The Node flags `npm start` (and, kept equal by a test, the image) runs the service with, read from
 * package.json: the one place the bench and the tests take them from.
 */
export function readProductionNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  const words = manifest.scripts.start.split(/\s+/)
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js')
    throw new Error(`unexpected start script: ${manifest.scripts.start}`)
  return words.slice(1, -1)
}

export async function productionNodeFlags(): Promise<string[]> {
  return readProductionNodeFlags()
}

/** The environment of a measured service process: production mode on 127.0.0.1, the password in a file. */
export function serviceEnv(
  db: ConnectionSettings,
  passwordFile: string,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DB_HOST: db.host,
    DB_PORT: String(db.port),
    DB_USER: db.user,
    DB_NAME: db.database,
    DB_PASSWORD_FILE: passwordFile,
    // The load generator is one address standing for many clients: no per-client share applies to it.
    CLIENT_MAX_SHARE_PERCENT: '100',
    ...extra,
  }
}
