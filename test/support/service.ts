import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { type App, type AppConfig, createApp } from '../../src/app.js'
import { type ConnectionSettings, loadConfig } from '../../src/config.js'
import { createDatabase, type Database, type DatabaseOptions } from '../../src/db/postgres.js'
import { createHttpServer, type ServerOptions } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { startTestPostgres } from './postgres.js'

export const CONTAINER_NAME = 'ctera-app-test'

export interface RunningService {
  url: string
  app: App
  db: Database
  /** Every log line the service wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>
  rawLogs: string[]
  close(): Promise<void>
}

export type ServiceOptions = Partial<DatabaseOptions> &
  Partial<AppConfig> &
  Partial<ServerOptions> & {
    /** Start the background health monitor, as main.ts does (default true). */
    monitor?: boolean
  }

/** The real app on a real socket (port 0), as main.ts wires it, with its logs captured. */
export async function startService(
  settings: ConnectionSettings,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const { monitor = true, ...overrides } = options
  const config = { ...loadConfig({}), containerName: CONTAINER_NAME, poolMax: 5, ...overrides }
  const rawLogs: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      rawLogs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const logger = createLogger('debug', sink)
  const db = createDatabase(settings, config, logger)
  const app = createApp({ config, db, logger, version: '1.2.3' })
  const server = createHttpServer(config, app.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  if (monitor) app.monitor.start()
  const { port } = server.address() as AddressInfo
  return {
    url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    app,
    db,
    rawLogs,
    get logs() {
      return rawLogs.map((line) => JSON.parse(line) as Record<string, unknown>)
    },
    close: async () => {
      await app.dispose()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.close()
    },
  }
}

/**
 * The service on a PostgreSQL of the test file's own, for tests that stop and start the database
 * (the suite's shared one must stay up). close() stops both.
 */
export async function startServiceOnOwnPostgres(
  options: ServiceOptions & { postgresSettings?: Record<string, string> } = {},
) {
  const { postgresSettings, ...serviceOptions } = options
  const postgres = await startTestPostgres(postgresSettings)
  const service = await startService(postgres.app, serviceOptions)
  return {
    postgres,
    service,
    close: async () => {
      await service.close()
      await postgres.destroy()
    },
  }
}
