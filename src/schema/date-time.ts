import { GraphQLError, Kind } from 'graphql'
import { builder } from './builder.js'

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime()))
    throw new GraphQLError('DateTime must be an ISO-8601 date-time string')
  return date
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time in UTC, such as 2026-11-28T20:01:52.123Z.',
  serialize: (date) => date.toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
})
