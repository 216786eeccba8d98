import { spawn } from 'node:child_process'
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { ROOT } from './dockerfile.js'

export const INIT_SCRIPT = resolve(ROOT, 'deploy/postgres/initdb/10-ctera-monitoring-role.sh')

// The official image's docker-entrypoint.sh (docker_process_init_files): from a bash running with
// `set -Eeo pipefail`, an executable *.sh file is run and any other *.sh file is sourced. The last line
// shows whether the entrypoint went on afterwards.
const ENTRYPOINT = `set -Eeo pipefail
f=$1
if [ -x "$f" ]; then "$f"; else . "$f"; fi
echo "entrypoint: went on after $f"`

export interface InitScriptRun {
  status: number | null
  stdout: string
  stderr: string
  /** The arguments of every psql the script started, one line each. */
  psqlCommandLines: string[]
}

/**
 * Runs an init script as the postgres image does on a fresh volume: as the superuser, with the
 * environment the entrypoint exports (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGPASSWORD; no
 * PGUSER) plus the compose file's APP_DB_USER and APP_PASSWORD_FILE. Only the server's address differs:
 * the image uses its Unix socket, this uses PGHOST and PGPORT. psql is wrapped to record its arguments.
 */
export async function runLikeThePostgresImage(
  script: string,
  admin: ConnectionSettings,
  env: { POSTGRES_DB: string; APP_DB_USER: string; APP_PASSWORD_FILE: string },
): Promise<InitScriptRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ctera-initdb-'))
  const argvLog = join(dir, 'psql-argv')
  writeFileSync(argvLog, '')
  writeFileSync(
    join(dir, 'psql'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${findOnPath('psql')}' "$@"\n`,
    { mode: 0o755 },
  )
  // Asynchronous: a test's own PostgreSQL logs through this process, which must keep reading meanwhile.
  const child = spawn('bash', ['-c', ENTRYPOINT, 'docker-entrypoint.sh', script], {
    // Not a socket (Node's default pipe): bash -c would take that for sshd and read ~/.bashrc.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`,
      PGHOST: admin.host,
      PGPORT: String(admin.port),
      PGPASSWORD: admin.password,
      POSTGRES_USER: admin.user,
      POSTGRES_PASSWORD: admin.password,
      ...env,
    },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const psqlCommandLines = readFileSync(argvLog, 'utf8').split('\n').filter(Boolean)
  rmSync(dir, { recursive: true, force: true })
  return { status, stdout, stderr, psqlCommandLines }
}

/** A copy of the script that is not executable: the image sources such a file instead of running it. */
export function nonExecutableCopy(script: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'ctera-initdb-')), '10-ctera-monitoring-role.sh')
  copyFileSync(script, copy)
  chmodSync(copy, 0o644)
  return copy
}

function findOnPath(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error(`${command} is not installed (.ci/run installs postgresql-client)`)
}
