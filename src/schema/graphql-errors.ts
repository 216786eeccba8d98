import { GraphQLError } from 'graphql'
import { DatabaseBusyError, DatabaseUnavailableError } from '../db/failure-reasons.js'

export const DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE'
export const DATABASE_BUSY = 'DATABASE_BUSY'
export const BAD_USER_INPUT = 'BAD_USER_INPUT'

/**
 * Runs a database call and turns "cannot reach the database" (DATABASE_UNAVAILABLE) and "it is up but
 * busy" (DATABASE_BUSY) into expected GraphQL errors with fixed messages. Anything else propagates and
 * is masked by yoga: logged, never sent.
 */
export async function whenDatabaseAvailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) {
      throw new GraphQLError('The database is unavailable.', {
        extensions: { code: DATABASE_UNAVAILABLE, reason: error.reason },
      })
    }
    if (error instanceof DatabaseBusyError) {
      throw new GraphQLError('The database is busy.', {
        extensions: { code: DATABASE_BUSY, reason: error.reason },
      })
    }
    throw error
  }
}

/** The client asked for something impossible: 400, and nothing logged (it is not our failure). */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: BAD_USER_INPUT, http: { status: 400 } } })
}
