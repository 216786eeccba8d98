import { badUserInput } from './graphql-errors.js'

// PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1); a longer name cannot match.
export const MAX_SCHEMA_NAME_LENGTH = 63

/**
 * PostgreSQL text cannot hold a NUL byte, so no name has one; the server refuses such a string with an
 * encoding error that would otherwise look like a failure of ours.
 */
export function hasNul(text: string): boolean {
  return text.includes('\u0000')
}

/** The `schema` argument (numberOfTables, database.tables), checked before it reaches PostgreSQL. */
export function schemaArgument(schema: string | null | undefined): string | undefined {
  if (schema == null) return undefined
  if (schema.length > MAX_SCHEMA_NAME_LENGTH) {
    throw badUserInput(`schema must be at most ${MAX_SCHEMA_NAME_LENGTH} characters`)
  }
  if (hasNul(schema)) throw badUserInput('schema must not contain NUL characters')
  return schema
}
