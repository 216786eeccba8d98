import type { AppConfig } from '../../src/app.js'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { type Config, loadConfig } from '../../src/config/load-config.js'
import { createLogger } from '../../src/logger.js'
import { type RunningService as Service, startService as startTheService } from '../../src/service.js'
import { createLogSink } from './log-sink.js'
import { startTestPostgres } from './postgres.js'

export const CONTAINER_NAME = 'ctera-app-test'

export interface RunningService extends Service {
  /** Every log line the service wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>
  rawLogs: string[]
  close(): Promise<void>
}

export type ServiceOptions = Partial<Omit<Config, 'database'>> &
  Partial<AppConfig> & {
    /** Check the database in the background, as main.ts does (default true). */
    monitor?: boolean
    /** GraphQL's fast path (default on): off to compare it with yoga's own path. */
    graphqlFastPath?: boolean
  }

/**
 * The service as main.ts starts it (src/service.ts), on a real socket (port 0 on 127.0.0.1), with its
 * logs captured. close() is its own stop(): the same shutdown order, with a short timeout so that a
 * test's idle keep-alive connections do not hold it.
 */
export async function startService(
  settings: ConnectionSettings,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const { monitor = true, graphqlFastPath = true, ...overrides } = options
  const config: Config = {
    ...loadConfig({}),
    containerName: CONTAINER_NAME,
    poolMax: 5,
    port: 0,
    host: '127.0.0.1',
    shutdownTimeoutMs: 100,
    ...overrides,
    database: { kind: 'external', ...settings },
  }
  const sink = createLogSink()
  const rawLogs = sink.lines
  const service = await startTheService(config, createLogger('debug', sink.stream), {
    backgroundChecks: monitor,
    graphqlFastPath,
  })
  return {
    ...service,
    rawLogs,
    logs: sink.records,
    close: () => service.stop('test finished'),
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
