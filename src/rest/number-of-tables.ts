import { type GraphQLSchema, parse } from 'graphql'
import { internalError, type RestResponse } from '../http/respond.js'
import type { Context } from '../schema/builder.js'
import { DATABASE_BUSY, DATABASE_UNAVAILABLE } from '../schema/graphql-errors.js'
import { errorCode, runOperation } from './run-operation.js'

const NUMBER_OF_TABLES = parse('query RestNumberOfTables { numberOfTables }')

/** GET /number_of_tables: `{"number_of_tables":"189"}`; the count is a string, as the seed sent it. */
export async function getNumberOfTables(schema: GraphQLSchema, context: Context): Promise<RestResponse> {
  const result = await runOperation<{ numberOfTables: number }>(schema, NUMBER_OF_TABLES, context)
  if (result.data?.numberOfTables !== undefined && !result.errors) {
    return { status: 200, body: { number_of_tables: String(result.data.numberOfTables) } }
  }
  const [error] = result.errors ?? []
  const code = errorCode(result)
  if (code === DATABASE_UNAVAILABLE || code === DATABASE_BUSY) {
    // The GraphQL error's message and reason are fixed texts: the REST body repeats them. A busy
    // database frees up within a query timeout; an unavailable one takes longer to come back.
    return {
      status: 503,
      body: { error: error?.message, code, reason: error?.extensions?.reason },
      headers: { 'retry-after': code === DATABASE_BUSY ? '1' : '5' },
    }
  }
  return { ...internalError, error: error?.originalError ?? error }
}
