import { type GraphQLSchema, parse } from 'graphql'
import type { RestResponse } from '../http/respond.js'
import type { Context } from '../schema/builder.js'
import { UNHEALTHY } from '../schema/health.js'
import { runOperation } from './run-operation.js'

const HEALTH = parse('query RestHealth { health { healthy status container } }')

/** GET /health: the seed's body, 200 when the database answers and 503 when it does not. */
export async function getHealth(schema: GraphQLSchema, context: Context): Promise<RestResponse> {
  const result = await runOperation<{ health: { healthy: boolean; status: string; container: string } }>(
    schema,
    HEALTH,
    context,
  )
  const health = result.data?.health
  if (!health) {
    // health never raises for a dead database, so this is unexpected: answer Unhealthy, log why.
    return {
      status: 503,
      body: { container: context.containerName, status: UNHEALTHY },
      error: result.errors?.[0]?.originalError ?? result.errors?.[0],
    }
  }
  return {
    status: health.healthy ? 200 : 503,
    body: { container: health.container, status: health.status },
  }
}
