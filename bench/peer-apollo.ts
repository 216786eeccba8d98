/**
 * A peer for GraphQL: Apollo Server 5 (`startStandaloneServer`, on node:http) with the service's schema,
 * context and database layer (peer-context.ts); no limits, metrics or logs, and no landing page.
 * Started by bench/run.ts: `tsx bench/peer-apollo.ts <port>` with PG* variables for the database.
 */
import { ApolloServer } from '@apollo/server'
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled'
import { startStandaloneServer } from '@apollo/server/standalone'
import type { Context } from '../src/schema/builder.js'
import { peerContext, peerPort, peerReady, schema } from './peer-context.js'

const server = new ApolloServer<Context>({ schema, plugins: [ApolloServerPluginLandingPageDisabled()] })
await startStandaloneServer(server, {
  listen: { port: peerPort, host: '127.0.0.1' },
  context: async () => peerContext(),
})
peerReady(() => server.stop())
