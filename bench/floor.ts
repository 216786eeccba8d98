/**
 * The floor of the stack: bare node:http and one pg Pool running the same queries as the service
 * (SELECT 1 for health, the seed's count for tables), with no framework, no GraphQL, no logging.
 * Started by bench/run.ts: `tsx bench/floor.ts <port>` with PG* variables for the database.
 */
import { createServer } from 'node:http'
import pg from 'pg'

const pool = new pg.Pool({ max: 10 })
pool.on('error', () => {})
const container = 'floor'

const server = createServer(async (req, res) => {
  try {
    if (req.url === '/health') {
      await pool.query('SELECT 1')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ container, status: 'Healthy!' }))
    } else if (req.url === '/number_of_tables') {
      const result = await pool.query('SELECT count(*) FROM information_schema.tables')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ number_of_tables: String(result.rows[0].count) }))
    } else {
      res.writeHead(404).end()
    }
  } catch {
    res.writeHead(503, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ container, status: 'Unhealthy' }))
  }
})
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => process.stdout.write('ready\n'))
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))))
