/**
 * A peer for GraphQL: the same schema, context and database layer as the service, served by graphql-http
 * (the GraphQL-over-HTTP reference server) on bare node:http, with no limits, metrics or logs. It shows
 * what a minimal spec-compliant server costs on this machine; it parses and validates every request.
 * Started by bench/run.ts: `tsx bench/peer-graphql-http.ts <port>` with PG* variables for the database.
 */
import { createServer } from 'node:http'
import { createHandler } from 'graphql-http/lib/use/http'
import { loadConfig } from '../src/config/index.js'
import { createPostgresDatabase } from '../src/db/postgres.js'
import { HealthMonitor } from '../src/health/monitor.js'
import { createLogger } from '../src/logger.js'
import type { Context } from '../src/schema/builder.js'
import { schema } from '../src/schema/index.js'

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
const handler = createHandler({
  schema,
  context: () => ({ db, monitor, containerName: 'peer', showDetails: false }) satisfies Context,
})

const server = createServer((req, res) => {
  if (req.url === '/graphql') handler(req, res)
  else res.writeHead(404).end()
})
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => process.stdout.write('ready\n'))
process.on('SIGTERM', () => server.close(() => db.close().then(() => process.exit(0))))
