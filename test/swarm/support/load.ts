import { type ChildProcess, spawn } from 'node:child_process'
import { DOCKER, run } from '../../containers/support/engine.js'

export interface Outcome {
  addr: string
  status?: number
  error?: string
}

/** One request of the load client (support/load-client.mjs), with its retry when the first try failed. */
export interface RequestRecord extends Outcome {
  t: number
  ms: number
  path: string
  replica?: string
  retry?: Outcome
}

export const failedOutcome = (outcome: Outcome) => outcome.error !== undefined || (outcome.status ?? 0) >= 500

/** The answer the caller got: the first try's, or the retry's when the first failed. */
export const finalOutcome = (record: RequestRecord): Outcome =>
  failedOutcome(record) && record.retry ? record.retry : record

export interface StepCounts {
  requests: number
  /** Answered without a 5xx, on the first try or on the retry. */
  served: number
  /** Answered only on the retry, after the first try failed. */
  retried: number
  /** A 5xx or no answer, even after the retry. */
  failed: number
}

export function count(records: RequestRecord[]): StepCounts {
  const retried = records.filter((record) => failedOutcome(record) && !failedOutcome(finalOutcome(record)))
  const failed = records.filter((record) => failedOutcome(finalOutcome(record)))
  return {
    requests: records.length,
    served: records.length - failed.length,
    retried: retried.length,
    failed: failed.length,
  }
}

export interface Load {
  records: RequestRecord[]
  /** Requests started from `from` up to `to` (ms since the epoch). */
  between(from: number, to: number): RequestRecord[]
  /** Lines that were not JSON, and the client's stderr: for a failure's message. */
  noise(): string
  stop(): Promise<void>
}

/**
 * Starts the load client in a container on the stack's overlay network: the app's own image (it has node),
 * the client script mounted read-only. It runs until stop() closes its stdin.
 */
export function startLoad(options: {
  name: string
  network: string
  image: string
  clientDir: string
  target: string
}): Load {
  const records: RequestRecord[] = []
  let noise = ''
  const child: ChildProcess = spawn(
    DOCKER,
    [
      'run',
      '--rm',
      '--interactive',
      '--name',
      options.name,
      '--network',
      options.network,
      '--read-only',
      '--volume',
      `${options.clientDir}:/client:ro`,
      '--env',
      `TARGET=${options.target}`,
      options.image,
      'node',
      '/client/load-client.mjs',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let partial = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = `${partial}${chunk.toString('utf8')}`.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as RequestRecord & { done?: boolean }
        if (!parsed.done) records.push(parsed)
      } catch {
        noise += `${line}\n`
      }
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    noise += chunk.toString('utf8')
  })
  const exited = new Promise<void>((resolveExit) => child.on('exit', () => resolveExit()))

  return {
    records,
    between: (from, to) => records.filter((record) => record.t >= from && record.t <= to),
    noise: () => noise.slice(-4000),
    async stop() {
      child.stdin?.end()
      const timeout = new Promise<'timeout'>((resolveTimeout) =>
        setTimeout(() => resolveTimeout('timeout'), 20_000),
      )
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        await run(DOCKER, ['rm', '--force', options.name])
        child.kill()
      }
    },
  }
}
