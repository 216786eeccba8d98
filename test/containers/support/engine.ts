import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

// The same choice as scripts/containers-setup.sh: Debian's /usr/bin/docker when present, because a newer
// CLI found first on PATH may lack the buildx plugin and then refuses BuildKit builds.
export const DOCKER = process.env.DOCKER || (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker')

export interface Run {
  status: number
  stdout: string
  stderr: string
}

/** Runs a command to its end (bounded), never through a shell. Resolves with its status and output. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, DOCKER_BUILDKIT: '1', ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        const killed = error?.killed ? `\n(killed after ${options.timeoutMs ?? 120_000} ms)` : ''
        resolveRun({ status, stdout, stderr: `${stderr}${killed}` })
      },
    )
  })
}

/** Like run, but a failure throws with the command and its stderr: for steps the test depends on. */
export async function runOrThrow(
  command: string,
  args: string[],
  options?: Parameters<typeof run>[2],
): Promise<string> {
  const result = await run(command, args, options)
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr.slice(-4000)}`)
  }
  return result.stdout
}

export const docker = (args: string[], options?: Parameters<typeof run>[2]) =>
  runOrThrow(DOCKER, args, options)

/** `docker compose` (v2, as on GitHub) when the engine's CLI has it, else Debian's `docker-compose` (v1). */
export async function findCompose(): Promise<{ command: string; prefix: string[]; v1: boolean }> {
  if ((await run(DOCKER, ['compose', 'version'])).status === 0) {
    return { command: DOCKER, prefix: ['compose'], v1: false }
  }
  if ((await run('docker-compose', ['version', '--short'])).status === 0) {
    return { command: 'docker-compose', prefix: [], v1: true }
  }
  throw new Error('neither `docker compose` nor `docker-compose` runs: run `npm run containers:setup` first')
}

/** Fails with one clear line when no engine answers, so a missing set-up never passes as a skip. */
export async function requireEngine(): Promise<void> {
  const info = await run(DOCKER, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 })
  if (info.status !== 0) {
    throw new Error(`no Docker engine answers to ${DOCKER}: run \`npm run containers:setup\` first`)
  }
}

export interface ContainerState {
  Status: string
  Running: boolean
  ExitCode: number
  OOMKilled: boolean
  StartedAt: string
  Health?: { Status: string }
}

export interface Container {
  Id: string
  RestartCount: number
  State: ContainerState
  Config: { User: string; Env: string[]; Healthcheck?: { Test: string[] } }
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; SecurityOpt: string[] | null }
  Mounts: Array<{ Type: string; Source: string; Destination: string; Name?: string }>
}

export async function inspect(id: string): Promise<Container> {
  const [container] = JSON.parse(await docker(['inspect', id])) as Container[]
  if (!container) throw new Error(`docker inspect ${id}: no such container`)
  return container
}

// Action and Actor.ID, not the old status and id fields: newer engines (API 1.52) no longer send those.
export interface EngineEvent {
  Action: string
  timeNano: number
  Actor: { ID: string; Attributes: Record<string, string> }
}

/** Records the engine's container events for one compose project, from now until stop(). */
export function recordEvents(project: string): { events: EngineEvent[]; stop(): void } {
  const events: EngineEvent[] = []
  // --since replays from a second ago: events of the first moments are kept, whenever the stream is ready.
  const since = String(Math.floor(Date.now() / 1000) - 1)
  const child: ChildProcess = spawn(
    DOCKER,
    [
      'events',
      '--since',
      since,
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{json .}}',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = `${partial}${chunk.toString('utf8')}`.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as EngineEvent)
  })
  return { events, stop: () => child.kill() }
}
