import { readFileSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Logger } from '../../logger.js'

/**
 * Which process runs the embedded PostgreSQL of a data folder: `<dataDir>/owner.json` holds its pid and the
 * time it started (so a pid the kernel handed to another process since is not mistaken for it).
 *
 * The server runs in its own process group (a Ctrl-C reaches the service first), so when the service is
 * killed with SIGKILL (an OOM kill) the server lives on, reparented to PID 1, holding the folder. The next
 * start finds the owner gone, stops that orphan cleanly and starts afresh; while the owner lives, a second
 * start is refused.
 */
interface Owner {
  pid: number
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); '' where there is no /proc. */
  startedAt: string
}

const STOP_TIMEOUT_MS = 15_000
const POLL_MS = 100

/** The one line for a folder held by a live instance (the server's pid when known). */
export function anotherInstance(dataDir: string, postgresPid?: string): string {
  return (
    `another instance${postgresPid ? ` (PostgreSQL pid ${postgresPid})` : ''} is using the embedded database in ${dataDir}: ` +
    'stop it, or run a second instance with its own EMBEDDED_DB_DIR and PORT, or point DATABASE_URL at a server'
  )
}

/**
 * Claims the folder for this process. Refuses (the message of anotherInstance) while the recorded owner
 * lives; when it is gone, stops the server it left behind first. `refuse` builds the error to throw.
 */
export async function claimFolder(
  dataDir: string,
  clusterDir: string,
  logger: Logger,
  refuse: (message: string) => Error,
): Promise<void> {
  const file = ownerFile(dataDir)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx': of two instances starting at once, one creates the file and the other sees it.
      await writeFile(file, JSON.stringify(thisProcess()), { flag: 'wx', mode: 0o600 })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = parseOwner(await readFile(file, 'utf8').catch(() => ''))
    if (owner && isAlive(owner)) throw refuse(anotherInstance(dataDir, postmasterPid(clusterDir)))
    await stopOrphan(dataDir, clusterDir, logger, refuse)
    await rm(file, { force: true })
  }
  throw refuse(anotherInstance(dataDir, postmasterPid(clusterDir)))
}

/** Records this process as the owner: called once its server is ready, when it certainly holds the folder. */
export async function confirmOwner(dataDir: string): Promise<void> {
  await writeFile(ownerFile(dataDir), JSON.stringify(thisProcess()), { mode: 0o600 })
}

/** Gives the folder up, if this process holds it. */
export async function releaseFolder(dataDir: string): Promise<void> {
  const file = ownerFile(dataDir)
  const owner = parseOwner(await readFile(file, 'utf8').catch(() => ''))
  if (owner?.pid === process.pid) await rm(file, { force: true })
}

function ownerFile(dataDir: string): string {
  return resolve(dataDir, 'owner.json')
}

function thisProcess(): Owner {
  return { pid: process.pid, startedAt: startTime(process.pid) ?? '' }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<Owner>
    if (Number.isInteger(owner.pid) && typeof owner.startedAt === 'string') return owner as Owner
  } catch {}
  return undefined
}

function isAlive(owner: Owner): boolean {
  if (!processExists(owner.pid)) return false
  const now = startTime(owner.pid)
  // Without /proc the pid alone must do.
  return now === undefined || owner.startedAt === '' || now === owner.startedAt
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie has ended; only its parent has yet to collect its exit status.
  return state(pid) !== 'Z'
}

function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19]
}

function state(pid: number): string | undefined {
  return statFields(pid)?.[0]
}

/** /proc/<pid>/stat from field 3 (state) on: the command name before it is in parentheses and may hold spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** The pid on the first line of the cluster's postmaster.pid, if there is one. */
function postmasterPid(clusterDir: string): string | undefined {
  try {
    return /^\d+/.exec(readFileSync(resolve(clusterDir, 'postmaster.pid'), 'utf8'))?.[0]
  } catch {
    return undefined
  }
}

/** Stops the server a dead owner left running on this cluster: fast shutdown (SIGINT), waiting for it. */
async function stopOrphan(
  dataDir: string,
  clusterDir: string,
  logger: Logger,
  refuse: (message: string) => Error,
): Promise<void> {
  const pid = Number(postmasterPid(clusterDir))
  // Only a live PostgreSQL of this very cluster: a stale postmaster.pid may name a pid reused since.
  if (!pid || !serves(pid, clusterDir)) return
  logger.warn(
    { pid, dataDir },
    'the embedded PostgreSQL of a service that is gone (killed?) still runs: stopping it to start again',
  )
  const stopped = (await signalAndWait(pid, 'SIGINT')) || (await signalAndWait(pid, 'SIGQUIT'))
  if (!stopped) throw refuse(anotherInstance(dataDir, String(pid)))
}

function serves(pid: number, clusterDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return args.some((arg) => arg.endsWith('postgres')) && args.includes(clusterDir)
  } catch {
    return false
  }
}

async function signalAndWait(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  try {
    process.kill(pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
    return false
  }
  for (let waited = 0; waited < STOP_TIMEOUT_MS; waited += POLL_MS) {
    if (!processExists(pid)) return true
    await new Promise((resolveWait) => setTimeout(resolveWait, POLL_MS))
  }
  return !processExists(pid)
}
