/**
 * A peer for GraphQL: Mercurius with graphql-jit (`jit: 1`: compiled from the first call) on Fastify 5,
 * with the service's schema, context and database layer (peer-context.ts); no limits, metrics or logs.
 * Started by bench/run.ts: `tsx bench/peer-mercurius.ts <port>` with PG* variables for the database.
 */
import Fastify from 'fastify'
import mercurius from 'mercurius'
import { peerContext, peerPort, peerReady, schema } from './peer-context.js'

const app = Fastify({ logger: false })
await app.register(mercurius, { schema, context: peerContext, jit: 1, graphiql: false })
await app.listen({ port: peerPort, host: '127.0.0.1' })
peerReady(() => app.close())
