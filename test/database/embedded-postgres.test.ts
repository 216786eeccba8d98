import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Binaries, installedBinaries, SHARED_BINARIES_ROOT } from '../../src/db/embedded/binaries.js'
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded/embedded-postgres.js'
import { SHARED_CLUSTERS_ROOT } from '../../src/db/embedded/postgres-user.js'
import { createLogger } from '../../src/logger.js'
import { withClient } from '../support/postgres.js'

const logger = createLogger('silent')
const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

async function started(dataDir: string, binaries?: Binaries): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, logger, binaries })
  cleanups.push(() => server.stop())
  return server
}

async function scratch(prefix: string): Promise<string> {
  const dir = await mkdtemp(join('/tmp', prefix))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const isRoot = process.getuid?.() === 0

describe('the embedded PostgreSQL', () => {
  it('keeps its data across a stop and a new start on the same folder', async () => {
    const dataDir = join(await scratch('ctera-embedded-'), 'data')
    const first = await started(dataDir)
    await withClient(first.settings, (client) => client.query('CREATE TABLE kept (id int)'))
    await first.stop()

    const second = await started(dataDir)
    const { rows } = await withClient(second.settings, (client) =>
      client.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'"),
    )
    expect(rows[0].n).toBe(1)
  })

  it('says that another instance holds the folder, and how to run a second one', async () => {
    const dataDir = join(await scratch('ctera-embedded-'), 'data')
    await started(dataDir)

    const second = startEmbeddedPostgres({ dataDir, logger })

    await expect(second).rejects.toThrow(
      /another instance \(PostgreSQL pid \d+\) is using the embedded database in .*: stop it, or run a second instance with its own EMBEDDED_DB_DIR and PORT/,
    )
  })

  // Only root runs the server as another user; elsewhere the folder is the caller's own.
  it.runIf(isRoot)(
    'runs as root from a folder the postgres user cannot enter (a checkout in /root)',
    async () => {
      const locked = await scratch('ctera-locked-')
      await chmod(locked, 0o700)
      // The installed binaries, copied under the locked folder as a checkout in /root would hold them.
      const { nativeDir } = await installedBinaries()
      const version = `test-${randomBytes(4).toString('hex')}`
      await cp(nativeDir, join(locked, 'native'), { recursive: true, verbatimSymlinks: true })
      const binaries: Binaries = {
        nativeDir: join(locked, 'native'),
        initdb: join(locked, 'native', 'bin', 'initdb'),
        postgres: join(locked, 'native', 'bin', 'postgres'),
        version,
      }
      cleanups.push(() => rm(join(SHARED_BINARIES_ROOT, version), { recursive: true, force: true }))
      const dataDir = join(locked, 'checkout', '.data')

      const server = await started(dataDir, binaries)
      cleanups.push(() => rm(server.clusterDir, { recursive: true, force: true }))

      const { rows } = await withClient(server.settings, (client) => client.query('SELECT 1 AS one'))
      expect(rows[0].one).toBe(1)
      expect(server.clusterDir.startsWith(`${SHARED_CLUSTERS_ROOT}/`)).toBe(true)
      // The server runs from the shared copy, as the postgres user.
      const owner = execFileSync('ps', ['-o', 'user=,args=', '-C', 'postgres'], { encoding: 'utf8' })
      expect(owner).toContain(`postgres ${join(SHARED_BINARIES_ROOT, version, 'bin', 'postgres')}`)
    },
    // Copies 60 MB of binaries twice and creates a cluster: slow on a busy machine.
    120_000,
  )
})
