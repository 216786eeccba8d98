import { type InjectOptions, inject, type Response } from 'light-my-request'
import { loadConfig } from '../../src/config/load-config.js'
import { createLogger } from '../../src/logger.js'
import { buildService, type ServiceParts } from '../../src/service.js'
import { createLogSink } from './log-sink.js'
import { createMemoryDatabase, type MemoryDatabase } from './memory-database.js'
import { CONTAINER_NAME } from './service.js'

export interface AppOverMemory extends ServiceParts {
  db: MemoryDatabase
  /** One request through app.handle, with no socket (light-my-request's fake req/res). */
  request(options: InjectOptions | string): Promise<Response>
  /** POST /graphql with a JSON body; resolves to the status and parsed body. */
  graphql(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GraphqlBody }>
  logs: Array<Record<string, unknown>>
}

export interface GraphqlBody {
  data?: Record<string, unknown> | null
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>
}

/**
 * The service wired as src/service.ts wires it (buildService), over the in-memory database: nothing
 * listens, nothing polls. For the fast lane (test/unit).
 */
export function appOverMemory(env: Record<string, string> = {}): AppOverMemory {
  const sink = createLogSink()
  const config = { ...loadConfig({ GRAPHIQL: 'false', ...env }), containerName: CONTAINER_NAME }
  const db = createMemoryDatabase()
  const parts = buildService(config, db, createLogger('debug', sink.stream), '1.2.3')
  const request = (options: InjectOptions | string) => inject(parts.app.handle, options)
  return {
    ...parts,
    db,
    logs: sink.records,
    request,
    graphql: async (query, variables) => {
      const response = await request({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        payload: JSON.stringify({ query, variables }),
      })
      return { status: response.statusCode, body: response.json() as GraphqlBody }
    },
  }
}
