import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { createApp } from '../../src/app.js'
import type { ConnectionSettings } from '../../src/config.js'
import { createDatabase, type DatabaseOptions } from '../../src/db/database.js'
import { createLogger } from '../../src/logger.js'

export const CONTAINER_NAME = 'ctera-app-test'

export interface RunningService {
  url: string
  /** Every log line the service wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>
  rawLogs: string[]
  close(): Promise<void>
}

const FAST_OPTIONS: DatabaseOptions = {
  connectTimeoutMs: 2000,
  queryTimeoutMs: 5000,
  healthTimeoutMs: 2000,
  healthCacheMs: 0,
  poolMax: 5,
}

/** The real app on a real socket (port 0), as main.ts wires it, with its logs captured. */
export async function startService(
  settings: ConnectionSettings,
  options: Partial<DatabaseOptions> = {},
): Promise<RunningService> {
  const rawLogs: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      rawLogs.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const logger = createLogger('debug', sink)
  const db = createDatabase(settings, { ...FAST_OPTIONS, ...options }, logger)
  const app = createApp({ config: { containerName: CONTAINER_NAME }, db, logger })
  const server = createServer(app.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    rawLogs,
    get logs() {
      return rawLogs.map((line) => JSON.parse(line) as Record<string, unknown>)
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await app.dispose()
      await db.close()
    },
  }
}
