import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { findFreePort } from '../../src/net/free-port.js'
import { type ServiceProcess, spawnService } from '../support/process.js'

// The README's examples are real: every console block marked `<!-- live: database up -->` or
// `<!-- live: database down -->` is run here with curl against the service, and its output must match
// what the README shows, up to the values that change from run to run (numbers, times, request ids).
const ROOT = resolve(import.meta.dirname, '../..')
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8')
const postgres = inject('postgres')

interface Example {
  database: 'up' | 'down'
  command: string
  shown: string
}

function examples(markdown: string): Example[] {
  const found: Example[] = []
  const blocks = markdown.matchAll(/<!-- live: database (up|down) -->\n```console\n([\s\S]*?)```/g)
  for (const [, database, body] of blocks) {
    // A block holds one or more `$ command` lines (with `\` continuations), each followed by its output.
    const lines = (body ?? '').split('\n')
    let current: Example | undefined
    for (let index = 0; index < lines.length; index++) {
      let line = lines[index] ?? ''
      if (line.startsWith('$ ')) {
        let command = line.slice(2)
        while (command.endsWith('\\')) {
          index++
          line = lines[index] ?? ''
          command = `${command.slice(0, -1)} ${line.trim()}`
        }
        current = { database: database as 'up' | 'down', command, shown: '' }
        found.push(current)
      } else if (current) {
        current.shown += `${line}\n`
      }
    }
  }
  return found
}

/** What may differ between two runs: dates, times, numbers, request ids; header order. */
function normalise(output: string): string {
  const text = output
    .replace(/\r\n/g, '\n')
    .replace(/^date: .*\n/gim, '')
    .replace(/"?\d{4}-\d\d-\d\dT[\d:.]+Z"?/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .trim()
  const [head, ...rest] = text.split('\n\n')
  if (!head?.startsWith('HTTP/')) return text
  const [status, ...headers] = head.split('\n')
  return [[status, ...headers.map((header) => header.toLowerCase()).sort()].join('\n'), ...rest].join('\n\n')
}

/** Runs an example's curl command (its arguments as the shell would split them) against `url`. */
function run(command: string, url: string): string {
  const withUrl = command.replaceAll('localhost:5001', url.replace(/^http:\/\//, ''))
  // curl's progress meter goes to stderr, as on a terminal; only what the README shows is compared.
  return execFileSync('sh', ['-c', withUrl], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
}

let dir: string
let up: ServiceProcess
let down: ServiceProcess
const urls: Record<'up' | 'down', string> = { up: '', down: '' }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctera-readme-'))
  const passwordFile = join(dir, 'db_password.txt')
  await writeFile(passwordFile, `${postgres.app.password}\n`, { mode: 0o600 })
  const env = (dbPort: number) => ({
    PORT: '0',
    HOST: '127.0.0.1',
    CONTAINER_NAME: 'ctera-app',
    DB_HOST: postgres.app.host,
    DB_PORT: String(dbPort),
    DB_USER: 'ctera',
    DB_NAME: 'postgres',
    DB_PASSWORD_FILE: passwordFile,
    LOG_LEVEL: 'warn',
  })
  up = spawnService({ ...env(postgres.app.port), LOG_LEVEL: 'info' })
  down = spawnService({ ...env(await findFreePort()), LOG_LEVEL: 'info' })
  urls.up = `http://127.0.0.1:${(await up.waitForLog('listening')).port}`
  urls.down = `http://127.0.0.1:${(await down.waitForLog('listening')).port}`
})
afterAll(async () => {
  up?.child.kill('SIGTERM')
  down?.child.kill('SIGTERM')
  await Promise.all([up?.exited, down?.exited])
  await rm(dir, { recursive: true, force: true })
})

describe('the README examples, run live', () => {
  const all = examples(README)

  it('has examples of both states to run', () => {
    expect(all.filter((example) => example.database === 'up').length).toBeGreaterThanOrEqual(3)
    expect(all.filter((example) => example.database === 'down').length).toBeGreaterThanOrEqual(2)
  })

  it.each(all.map((example) => [`${example.command} (database ${example.database})`, example] as const))(
    '%s',
    (_name, example) => {
      const actual = run(example.command, urls[example.database])

      expect(normalise(actual)).toBe(normalise(example.shown))
    },
  )

  it('the comparison can fail: another body does not match', () => {
    const example = all.find((each) => each.command.includes('/health') && each.database === 'up')
    expect(example).toBeDefined()

    expect(normalise(run((example as Example).command, urls.down))).not.toBe(
      normalise((example as Example).shown),
    )
  })
})
