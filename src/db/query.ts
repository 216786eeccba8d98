import type pg from 'pg'
import { inDatabaseSpan } from '../telemetry/spans.js'
import { classifyFailure, DatabaseUnavailableError, isUnavailable } from './errors.js'

/**
 * The rows of one query. "Cannot reach or use the server" becomes a DatabaseUnavailableError with a
 * fixed reason; any other failure is unexpected and rethrown as is.
 */
export async function queryRows<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  try {
    return (await inDatabaseSpan(text, () => pool.query<R>(text, values))).rows
  } catch (error) {
    if (isUnavailable(error)) throw new DatabaseUnavailableError(classifyFailure(error))
    throw error
  }
}
