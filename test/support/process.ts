import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { readProductionNodeFlags } from '../../bench/service-process.js'
import type { ConnectionSettings } from '../../src/config/database-target.js'

export const MAIN = resolve(import.meta.dirname, '../../dist/main.js')
/** The V8 flags of `npm start` and the image's CMD (package.json, Dockerfile). */
export const PRODUCTION_NODE_FLAGS = readProductionNodeFlags()

export interface ServiceProcess {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>
  /** Resolves with the first JSON log line whose msg is `msg`, or rejects when the process exits first. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>
}

/** Runs the compiled server (what `npm start` runs) with exactly the given environment. */
export function spawnService(
  env: Record<string, string>,
  options: { uid?: number; gid?: number; cwd?: string; args?: string[] } = {},
): ServiceProcess {
  const { args = [MAIN], ...spawnOptions } = options
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
  })
  const stdout: string[] = []
  const stderr: string[] = []
  const waiters = new Set<() => void>()
  // Only whole lines: a chunk can end in the middle of one (a busy service writes thousands).
  const collect = (into: string[]) => {
    let partial = ''
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      into.push(...lines.filter(Boolean))
      for (const wake of waiters) wake()
    }
  }
  child.stdout?.on('data', collect(stdout))
  child.stderr?.on('data', collect(stderr))
  const exited = new Promise<number | string>((resolveExit) => {
    child.on('exit', (code, signal) => {
      resolveExit(code ?? signal ?? 'unknown')
      for (const wake of waiters) wake()
    })
  })

  function waitForLog(msg: string, timeoutMs = 60_000) {
    return new Promise<Record<string, unknown>>((resolveLine, reject) => {
      const settle = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      const timer = setTimeout(() => {
        settle()
        reject(new Error(`no "${msg}" log in ${timeoutMs} ms: ${stderr.join(' ')}`))
      }, timeoutMs)
      let scanned = 0
      function check() {
        for (; scanned < stdout.length; scanned++) {
          const entry = parseLine(stdout[scanned] ?? '')
          if (entry?.msg === msg) {
            settle()
            return resolveLine(entry)
          }
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          settle()
          reject(new Error(`exited before "${msg}": ${stderr.join(' ')}`))
        }
      }
      waiters.add(check)
      check()
    })
  }
  return { child, stdout, stderr, exited, waitForLog }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined // not a log line of ours
  }
}

/** True when uid 65534 (nobody) can read the file, so the server can run as that user. */
export function readableByNobody(file: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(file)}, 4)`], {
    uid: 65534,
    gid: 65534,
  })
  return probe.status === 0
}

/**
 * Environment that points the compiled server at a database, the password in a file as in production,
 * listening on a free port of 127.0.0.1. cleanup() deletes the password file.
 */
export async function databaseEnv(settings: ConnectionSettings, extra: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ctera-env-'))
  await chmod(dir, 0o755)
  await writeFile(join(dir, 'db_password'), `${settings.password ?? ''}\n`, { mode: 0o644 })
  return {
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      DB_HOST: settings.host,
      DB_PORT: String(settings.port),
      DB_USER: settings.user,
      DB_NAME: settings.database,
      DB_PASSWORD_FILE: join(dir, 'db_password'),
      ...extra,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** The compiled server as a process of its own against `settings`, once it listens; stop() ends it (SIGTERM). */
export async function startServiceProcess(
  settings: ConnectionSettings,
  extra: Record<string, string> = {},
  options: Parameters<typeof spawnService>[1] = {},
) {
  const prepared = await databaseEnv(settings, extra)
  const service = spawnService(prepared.env, options)
  const port = Number((await service.waitForLog('listening')).port)
  return {
    service,
    port,
    stop: async () => {
      service.child.kill('SIGTERM')
      await service.exited
      await prepared.cleanup()
    },
  }
}
