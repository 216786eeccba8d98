import type pg from 'pg'
import { classifyConnectFailure, classifyFailure, DatabaseUnavailableError, isUnavailable } from './errors.js'

/**
 * A connection from the pool for `work`, released afterwards (and discarded if the work failed). A
 * connection that cannot be had is a DatabaseUnavailableError whatever the server said, with a fixed
 * reason: a revoked CONNECT privilege is as much an outage to us as a refused socket.
 */
export async function withConnection<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw new DatabaseUnavailableError(classifyConnectFailure(error))
  }
  // A connection lost while checked out is also emitted as 'error' on the client; unheard, that event
  // would kill the process. pool.query() listens the same way.
  let lost: Error | undefined
  const onError = (error: Error) => {
    lost = error
  }
  client.on('error', onError)
  try {
    const result = await work(client)
    client.release(lost)
    return result
  } catch (error) {
    // As pool.query() does: a connection that failed a query is not trusted with the next one.
    client.release(lost ?? (error instanceof Error ? error : true))
    throw error
  } finally {
    client.off('error', onError)
  }
}

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
    return (await withConnection(pool, (client) => client.query<R>(text, values))).rows
  } catch (error) {
    if (isUnavailable(error)) throw new DatabaseUnavailableError(classifyFailure(error))
    throw error
  }
}
