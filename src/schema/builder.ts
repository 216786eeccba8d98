import SchemaBuilder from '@pothos/core'
import type { Database } from '../db/database.js'
import type { HealthMonitor } from '../health/monitor.js'

/** What every resolver receives. The database comes through here, never from a module-level client. */
export interface Context {
  db: Database
  monitor: HealthMonitor
  containerName: string
  /** HEALTH_DETAILS: versions (which help attackers) are shown only when this is on. */
  showDetails: boolean
  /** Who asked (the client address of http/client-address.ts): live subscriptions are shared per client. */
  client?: string
}

export const builder = new SchemaBuilder<{
  Context: Context
  Scalars: { DateTime: { Input: Date; Output: Date } }
  DefaultFieldNullability: false
}>({
  // Fields are non-null unless marked. Those that need the database are marked nullable: when it is
  // down they are null with a DATABASE_UNAVAILABLE error, and the rest of the answer (health) survives.
  defaultFieldNullability: false,
})

builder.queryType({
  description: 'Whether the service can reach its PostgreSQL database, and what that database holds.',
})
builder.subscriptionType({ description: 'Live updates, over Server-Sent Events (GraphQL over SSE).' })
