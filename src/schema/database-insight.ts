import type { DatabaseOverview, TableFilter, TableInfo, TablePage } from '../db/database.js'
import { hasNul, schemaArgument } from './arguments.js'
import { builder } from './builder.js'
import { badUserInput, whenDatabaseAvailable } from './graphql-errors.js'

const DEFAULT_PAGE_SIZE = 50
const MAX_PAGE_SIZE = 500
const MAX_CURSOR_LENGTH = 400

const Connections = builder.objectRef<DatabaseOverview['connections']>('Connections').implement({
  description:
    'Server connections to this database by state. Other roles\u2019 sessions count only when the service role may read all statistics (pg_monitor).',
  fields: (t) => ({
    active: t.exposeInt('active'),
    idle: t.exposeInt('idle'),
    max: t.exposeInt('max', { description: 'The server\u2019s max_connections.' }),
  }),
})

const TableKind = builder.enumType('TableKind', {
  values: ['TABLE', 'PARTITIONED_TABLE', 'VIEW', 'FOREIGN_TABLE'] as const,
})

const Table = builder.objectRef<TableInfo>('Table').implement({
  fields: (t) => ({
    schema: t.exposeString('schema'),
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: TableKind }),
    rowEstimate: t.exposeFloat('rowEstimate', {
      nullable: true,
      description: 'The planner\u2019s row estimate; null until the table is first analyzed.',
    }),
    sizeBytes: t.exposeFloat('sizeBytes', {
      description: 'Table, indexes and TOAST (pg_total_relation_size).',
    }),
  }),
})

export const PageInfo = builder
  .objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.exposeString('endCursor', {
        nullable: true,
        description: 'Pass as `after` for the next page.',
      }),
    }),
  })

const TableConnection = builder
  .objectRef<{ page: TablePage; filter: TableFilter }>('TableConnection')
  .implement({
    description: 'One page of tables, ordered by schema then name.',
    fields: (t) => ({
      nodes: t.field({ type: [Table], resolve: ({ page }) => page.tables }),
      pageInfo: t.field({
        type: PageInfo,
        resolve: ({ page }) => {
          const last = page.tables.at(-1)
          return { hasNextPage: page.hasNextPage, endCursor: last ? encodeCursor(last) : null }
        },
      }),
      totalCount: t.int({
        nullable: true,
        description: 'All the tables that match, on every page: the same number as numberOfTables.',
        resolve: ({ filter }, _args, ctx) => whenDatabaseAvailable(() => ctx.db.countTables(filter)),
      }),
    }),
  })

const DatabaseInfo = builder.objectRef<DatabaseOverview>('Database').implement({
  description: 'What the database is and holds, from read-only catalog queries.',
  fields: (t) => ({
    name: t.exposeString('name'),
    serverVersion: t.string({
      nullable: true,
      description:
        'The PostgreSQL version and build; null unless HEALTH_DETAILS is on (a version tells an attacker which flaws to try).',
      resolve: (overview, _args, ctx) => (ctx.showDetails ? overview.serverVersion : null),
    }),
    sizeBytes: t.exposeFloat('sizeBytes'),
    uptimeSeconds: t.exposeFloat('uptimeSeconds'),
    inRecovery: t.exposeBoolean('inRecovery', { description: 'True on a standby (replica).' }),
    connections: t.expose('connections', { type: Connections }),
    tables: t.field({
      type: TableConnection,
      nullable: true,
      args: {
        schema: t.arg.string(),
        includeSystem: t.arg.boolean({ defaultValue: true }),
        first: t.arg.int({ defaultValue: DEFAULT_PAGE_SIZE, description: `At most ${MAX_PAGE_SIZE}.` }),
        after: t.arg.string({ description: 'The endCursor of the previous page.' }),
      },
      resolve: async (_overview, args, ctx) => {
        const first = args.first ?? DEFAULT_PAGE_SIZE
        if (first < 1 || first > MAX_PAGE_SIZE) throw badUserInput(`first must be from 1 to ${MAX_PAGE_SIZE}`)
        const schema = schemaArgument(args.schema)
        const filter = { schema, includeSystem: args.includeSystem ?? true }
        const after = args.after == null ? undefined : decodeCursor(args.after)
        const page = await whenDatabaseAvailable(() => ctx.db.tables({ ...filter, first, after }))
        return { page, filter }
      },
    }),
  }),
})

builder.queryField('database', (t) =>
  t.field({
    type: DatabaseInfo,
    // Nullable, like every field that needs the database, so that its failure keeps the rest of the answer.
    nullable: true,
    description:
      'The database itself. null, with an error of extensions.code DATABASE_UNAVAILABLE when it cannot be ' +
      'reached, or DATABASE_BUSY when it is up but busy (retry).',
    resolve: (_root, _args, ctx) => whenDatabaseAvailable(() => ctx.db.overview()),
  }),
)

function encodeCursor(table: TableInfo): string {
  return Buffer.from(JSON.stringify([table.schema, table.name])).toString('base64url')
}

function decodeCursor(cursor: string): { schema: string; name: string } {
  const invalid = badUserInput('after is not a cursor returned by this API')
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalid
  try {
    const [schema, name] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof schema === 'string' && typeof name === 'string' && !hasNul(schema + name)) {
      return { schema, name }
    }
  } catch {
    // falls through to the error below
  }
  throw invalid
}
