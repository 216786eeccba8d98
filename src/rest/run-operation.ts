import { type DocumentNode, type ExecutionResult, execute, type GraphQLSchema } from 'graphql'
import type { Context } from '../schema/builder.js'

/**
 * The REST shims answer by running a GraphQL operation against the same schema, so there is one
 * path to the database. The documents are fixed and valid, so validation is skipped.
 */
export async function runOperation<T>(schema: GraphQLSchema, document: DocumentNode, context: Context) {
  return (await execute({ schema, document, contextValue: context })) as ExecutionResult<T>
}

export function errorCode(result: ExecutionResult): string | undefined {
  const code = result.errors?.[0]?.extensions?.code
  return typeof code === 'string' ? code : undefined
}
