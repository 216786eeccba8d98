import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { findFreePort } from '../../src/net/free-port.js'

const require = createRequire(import.meta.url)
const PRISM = require.resolve('@stoplight/prism-cli/dist/index.js')

export interface RunningPrism {
  /** Where to send requests: Prism forwards them to the upstream and checks both ways. */
  url: string
  stop(): Promise<void>
}

/**
 * Stoplight Prism in proxy mode (a dev dependency), on 127.0.0.1: it forwards each request to `upstream`
 * and checks the request and the answer against `document` (a file or a URL), reporting what breaks it in
 * an `sl-violations` header. CORS is off so that the answer's headers are the upstream's own.
 */
export async function startPrism(document: string, upstream: string): Promise<RunningPrism> {
  const port = await findFreePort()
  const child = spawn(
    process.execPath,
    [PRISM, 'proxy', document, upstream, '--host', '127.0.0.1', '--port', String(port), '--cors', 'false'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  )
  let log = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const listening = new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      log = `${log}${chunk}`.slice(-4000)
      if (log.includes('Prism is listening')) resolve()
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.on('error', reject)
    child.on('exit', () => reject(new Error(`prism exited at start: ${log}`)))
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000)
  try {
    await listening
  } catch (error) {
    await stop()
    throw error
  } finally {
    clearTimeout(timeout)
  }
  return { url: `http://127.0.0.1:${port}`, stop }
}
