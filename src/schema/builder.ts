import SchemaBuilder from '@pothos/core'
import type { Database } from '../db/database.js'
import type { HealthMonitor } from '../health/monitor.js'

/** What every resolver receives. The database comes through here, never from a module-level client. */
export interface Context {
  db: Database
  monitor: HealthMonitor
  containerName: string
}

export const builder = new SchemaBuilder<{
  Context: Context
  Scalars: { DateTime: { Input: Date; Output: Date } }
  DefaultFieldNullability: false
}>({
  // Fields are non-null unless marked: health always answers, and a failed count is an error, not a null.
  defaultFieldNullability: false,
})

builder.queryType({
  description: 'Whether the service can reach its PostgreSQL database, and what that database holds.',
})
builder.subscriptionType({ description: 'Live updates, over Server-Sent Events (GraphQL over SSE).' })
