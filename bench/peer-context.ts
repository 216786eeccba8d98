/**
 * What every GraphQL peer of the benchmark shares with the service: its schema, its context and its
 * database layer, so `{ health { status } }` means the same everywhere: one live check, with concurrent
 * checks sharing the one `SELECT 1` in flight (single-flight), as the service's health field does.
 * The peers read the database from PG* variables (bench/run.ts sets them).
 */
import { loadConfig } from '../src/config/load-config.js'
import { createPostgresDatabase } from '../src/db/postgres.js'
import { HealthMonitor } from '../src/health/monitor.js'
import { createLogger } from '../src/logger.js'
import type { Context } from '../src/schema/builder.js'

const logger = createLogger('silent')
const db = createPostgresDatabase(
  {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT),
    user: process.env.PGUSER ?? '',
    database: process.env.PGDATABASE ?? '',
    password: process.env.PGPASSWORD,
  },
  loadConfig({}),
  logger,
)
const monitor = new HealthMonitor(db, { intervalMs: 5000, staleAfterMs: 15_000 }, logger)

export { schema } from '../src/schema/index.js'
export const peerContext = (): Context => ({ db, monitor, containerName: 'peer', showDetails: false })
export const peerPort = Number(process.argv[2] ?? 0)

/** Tells bench/run.ts the peer listens; closes the pools on SIGTERM. */
export function peerReady(close: () => Promise<unknown>): void {
  process.stdout.write('ready\n')
  process.on('SIGTERM', () => {
    void close()
      .then(() => db.close())
      .finally(() => process.exit(0))
  })
}
