import { schemaArgument } from './arguments.js'
import { builder } from './builder.js'
import { whenDatabaseAvailable } from './graphql-errors.js'

builder.queryField('numberOfTables', (t) =>
  t.int({
    // Nullable so that a failed count costs only itself: the rest of the answer (health) survives.
    nullable: true,
    description:
      'How many tables the service database user can see. With no arguments this is exactly the original ' +
      '`SELECT count(*) FROM information_schema.tables`, system catalogs included. ' +
      'null, with an error of extensions.code DATABASE_UNAVAILABLE when the database cannot be reached, or ' +
      'DATABASE_BUSY when it is up but busy (retry).',
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
