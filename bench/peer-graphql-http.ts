/**
 * A peer for GraphQL: the same schema, context and database layer as the service (peer-context.ts),
 * served by graphql-http (the GraphQL-over-HTTP reference server) on bare node:http, with no limits,
 * metrics or logs. It parses and validates every request. Started by bench/run.ts:
 * `tsx bench/peer-graphql-http.ts <port>` with PG* variables for the database.
 */
import { createServer } from 'node:http'
import { createHandler } from 'graphql-http/lib/use/http'
import { peerContext, peerPort, peerReady, schema } from './peer-context.js'

const handler = createHandler({ schema, context: () => ({ ...peerContext() }) })
const server = createServer((req, res) => {
  if (req.url === '/graphql') handler(req, res)
  else res.writeHead(404).end()
})
server.listen(peerPort, '127.0.0.1', () => peerReady(() => new Promise((done) => server.close(done))))
