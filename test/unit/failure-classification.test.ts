import { describe, expect, it } from 'vitest'
import {
  classifyConnectFailure,
  classifyFailure,
  DatabaseUnavailableError,
  isUnavailable,
} from '../../src/db/failure-reasons.js'

const withCode = (code: string, message = 'driver text naming host db.internal') =>
  Object.assign(new Error(message), { code })

describe('classifyFailure', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'host not found'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ECONNRESET', 'connection lost'],
    ['28P01', 'authentication failed'],
    ['3D000', 'database does not exist'],
    ['57P03', 'database not accepting connections'],
    ['53300', 'too many connections'],
    ['57014', 'timeout'],
  ])('maps code %s to "%s"', (code, reason) => {
    expect(classifyFailure(withCode(code))).toBe(reason)
  })

  it.each([
    ['Connection terminated due to connection timeout', 'timeout'],
    ['Connection terminated unexpectedly', 'connection lost'],
    ['The server does not support SSL connections', 'tls error'],
    ['SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string', 'authentication failed'],
    ['something else entirely', 'database error'],
  ])('reads node-postgres’s own message "%s" as "%s"', (message, reason) => {
    expect(classifyFailure(new Error(message))).toBe(reason)
  })

  it('keeps the reason of a DatabaseUnavailableError, and copes with what is not an Error', () => {
    expect(classifyFailure(new DatabaseUnavailableError('host not found'))).toBe('host not found')
    expect(classifyFailure(null)).toBe('database error')
    expect(classifyFailure('text')).toBe('database error')
  })
})

describe('classifyConnectFailure', () => {
  it('reads a refusal sent while connecting as unavailability', () => {
    expect(classifyConnectFailure(withCode('42501'))).toBe('permission denied')
    expect(classifyConnectFailure(withCode('55000'))).toBe('database not accepting connections')
    expect(classifyConnectFailure(withCode('ECONNREFUSED'))).toBe('connection refused')
  })
})

describe('isUnavailable', () => {
  it('is true for connection, authorization, resource and operator classes and socket errors', () => {
    for (const code of ['08006', '28000', '53300', '57P01', '3D000', 'ECONNREFUSED']) {
      expect(isUnavailable(withCode(code))).toBe(true)
    }
  })

  it('is false for a query that is wrong, which is our failure (500), not an outage', () => {
    expect(isUnavailable(withCode('42P01', 'relation "x" does not exist'))).toBe(false)
    expect(isUnavailable(withCode('42501', 'permission denied for table x'))).toBe(false)
  })
})
