/**
 * Turns what node-postgres throws into a short, fixed reason. Driver messages can name hosts, users
 * or databases, so they never leave this module: only these reasons reach responses and logs.
 */
export type FailureReason =
  | 'connection refused'
  | 'timeout'
  | 'authentication failed'
  | 'database does not exist'
  | 'host not found'
  | 'host unreachable'
  | 'connection lost'
  | 'database not accepting connections'
  | 'too many connections'
  | 'permission denied'
  | 'tls error'
  | 'database error'

/** The database cannot answer now; callers report it (503, DATABASE_UNAVAILABLE) rather than crash. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
  constructor(readonly reason: FailureReason) {
    super(`database unavailable: ${reason}`)
  }
}

/**
 * Why the database answered but could not take this query now. The server is up (the health check has
 * its own connection), so this is "busy, ask again", never an outage.
 */
export type BusyReason = 'connection wait timeout' | 'queue full' | 'statement timeout'

/** The database is up but busy; callers report it (503, DATABASE_BUSY, Retry-After) rather than "unavailable". */
export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError'
  constructor(readonly reason: BusyReason) {
    super(`database busy: ${reason}`)
  }
}

/** pg-pool's words when every connection stayed in use for connectionTimeoutMillis (no connection was tried). */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect'

/**
 * Busy rather than unavailable: pg-pool waited in vain for one of its own connections, or the server itself
 * cancelled the query at statement_timeout (it answered, so it is up). Undefined for anything else.
 */
export function busyReason(error: unknown): BusyReason | undefined {
  if (error instanceof DatabaseBusyError) return error.reason
  if (!(error instanceof Error)) return undefined
  if (error.message === POOL_WAIT_TIMEOUT) return 'connection wait timeout'
  // 57014 is also an operator's pg_cancel_backend(); only the timeout's own message means "busy".
  const code = (error as { code?: unknown }).code
  if (code === '57014' && /statement timeout/i.test(error.message)) return 'statement timeout'
  return undefined
}

const BY_CODE: Record<string, FailureReason> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'host unreachable',
  ECONNRESET: 'connection lost',
  EPIPE: 'connection lost',
  '28P01': 'authentication failed', // invalid_password
  '28000': 'authentication failed', // invalid_authorization_specification (pg_hba rejects)
  '3D000': 'database does not exist',
  '57P01': 'connection lost', // admin_shutdown: the server is stopping
  '57P02': 'connection lost', // crash_shutdown
  '57P03': 'database not accepting connections', // cannot_connect_now: starting up or shutting down
  '53300': 'too many connections',
  '57014': 'timeout', // query_canceled by statement_timeout
}

// Refusals that only mean "unavailable" when the server sends them while a connection is being made.
const AT_CONNECT: Record<string, FailureReason> = {
  '42501': 'permission denied', // insufficient_privilege: CONNECT revoked on the database
  '55000': 'database not accepting connections', // ALLOW_CONNECTIONS false
}

/**
 * Why a new connection could not be made. Whatever the server answers then, no query has run: it is
 * always "unavailable" (503), never a failure of ours.
 */
export function classifyConnectFailure(error: unknown): FailureReason {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && AT_CONNECT[code]) return AT_CONNECT[code]
  return classifyFailure(error)
}

export function classifyFailure(error: unknown): FailureReason {
  if (error instanceof DatabaseUnavailableError) return error.reason
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && BY_CODE[code]) return BY_CODE[code]
  const message = error instanceof Error ? error.message : ''
  if (/timeout|timed out/i.test(message)) return 'timeout'
  if (/terminated|closed|ended|not queryable/i.test(message)) return 'connection lost'
  if (/ssl|tls|certificate/i.test(message)) return 'tls error'
  if (/password|authentication|SASL|SCRAM/i.test(message)) return 'authentication failed'
  return 'database error'
}

/**
 * True when the error means "cannot reach or use the server" rather than "this query is wrong".
 * SQLSTATE classes 08 (connection), 28 (authorization), 53 (resources), 57 (operator intervention)
 * and 3D000 (no such database) all mean the database is unavailable to us.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    if (/^(08|28|53|57)/.test(code) || code === '3D000') return true
    if (/^E[A-Z]+$/.test(code)) return true // a Node socket error: ECONNREFUSED, ETIMEDOUT, ...
  }
  // node-postgres reports its own timeouts and lost connections as plain Errors without a code.
  return classifyFailure(error) !== 'database error'
}
