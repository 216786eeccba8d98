import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { findFreePort } from '../../../src/net/free-port.js'
import { DOCKER, docker, run } from './engine.js'
import { APP, readComposeFile } from './stack.js'

/** Runs JavaScript with the node of a running container: the image has no shell, cat or env. */
export function execNode(container: string, script: string): Promise<string> {
  return docker(['exec', container, 'node', '-e', script])
}

/** VmRSS of the container's PID 1 (the service), in bytes. */
export async function residentBytes(container: string): Promise<number> {
  const status = await execNode(
    container,
    "process.stdout.write(require('fs').readFileSync('/proc/1/status'))",
  )
  const kilobytes = Number(status.match(/^VmRSS:\s*(\d+) kB$/m)?.[1])
  if (!Number.isFinite(kilobytes)) throw new Error(`no VmRSS in /proc/1/status:\n${status}`)
  return kilobytes * 1024
}

/**
 * Seconds from `docker run` of the image to the first 200 from /health: a second app container beside
 * the stack's, on its network, with the compose file's environment, password file and hardening, so the
 * database is up and already has the role. It is labelled with the stack's project, so a killed run's
 * container is removed with the stack (removeLeftoverStacks).
 */
export async function coldStart(options: {
  image: string
  project: string
  secretsDir: string
}): Promise<number> {
  const app = readComposeFile().services[APP] as { environment?: Record<string, string> }
  const env = Object.entries(app.environment ?? {}).flatMap(([name, value]) => ['--env', `${name}=${value}`])
  const port = await findFreePort()
  const name = `${options.project}-cold-start-${randomBytes(3).toString('hex')}`
  const args = [
    'run',
    '--detach',
    '--name',
    name,
    '--label',
    `com.docker.compose.project=${options.project}`,
    '--network',
    `${options.project}_default`,
    ...env,
    '--volume',
    `${join(options.secretsDir, 'db_password.txt')}:/run/secrets/db_password:ro`,
    '--publish',
    `127.0.0.1:${port}:5001`,
    '--read-only',
    '--tmpfs',
    '/tmp',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges:true',
    options.image,
  ]
  const started = performance.now()
  try {
    await docker(args)
    // Bounded: a service that never answers fails the measurement instead of hanging the suite.
    while (performance.now() - started < 120_000) {
      const status = await fetch(`http://127.0.0.1:${port}/health`, {
        signal: AbortSignal.timeout(2000),
      }).then(
        (response) => response.status,
        () => 0,
      )
      if (status === 200) return (performance.now() - started) / 1000
      await new Promise((wait) => setTimeout(wait, 20))
    }
    throw new Error(`${options.image} did not answer 200 on /health within 120 s`)
  } finally {
    await run(DOCKER, ['rm', '--force', name])
  }
}
