import { builder } from './builder.js'
import { badUserInput, whenDatabaseAvailable } from './errors.js'

// PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1); a longer name cannot match.
export const MAX_SCHEMA_NAME_LENGTH = 63

/**
 * The `schema` argument, checked before it reaches PostgreSQL: too long cannot match, and a NUL byte
 * is refused by the server's text encoding (an error that would otherwise look like ours).
 */
export function schemaArgument(schema: string | null | undefined): string | undefined {
  if (schema == null) return undefined
  if (schema.length > MAX_SCHEMA_NAME_LENGTH) {
    throw badUserInput(`schema must be at most ${MAX_SCHEMA_NAME_LENGTH} characters`)
  }
  if (schema.includes('\u0000')) throw badUserInput('schema must not contain NUL characters')
  return schema
}

builder.queryField('numberOfTables', (t) =>
  t.int({
    // Nullable so that a failed count costs only itself: the rest of the answer (health) survives.
    nullable: true,
    description:
      'How many tables the service database user can see. With no arguments this is exactly the original ' +
      '`SELECT count(*) FROM information_schema.tables`, system catalogs included. ' +
      'null, with an error of extensions.code DATABASE_UNAVAILABLE, when the database cannot be reached.',
    args: {
      schema: t.arg.string({ description: 'Count only the tables of this schema.' }),
      includeSystem: t.arg.boolean({
        defaultValue: true,
        description: 'false leaves out pg_catalog and information_schema.',
      }),
    },
    resolve: (_root, args, ctx) => {
      const schema = schemaArgument(args.schema)
      return whenDatabaseAvailable(() =>
        ctx.db.countTables({ schema, includeSystem: args.includeSystem ?? true }),
      )
    },
  }),
)
