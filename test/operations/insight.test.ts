import { ClientError, GraphQLClient } from 'graphql-request'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  DatabaseOverviewDocument,
  DatabaseTablesDocument,
  type DatabaseTablesQuery,
  type DatabaseTablesQueryVariables,
  DefaultNumberOfTablesDocument,
} from '../generated/operations.js'
import { withClient } from '../support/postgres.js'
import { present } from '../support/present.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
const SCHEMA = `insight_${process.pid}`
let service: RunningService
let client: GraphQLClient

beforeAll(async () => {
  await withClient(postgres.admin, async (admin) => {
    await admin.query(`CREATE SCHEMA ${SCHEMA} AUTHORIZATION ctera`)
    await admin.query(`CREATE TABLE ${SCHEMA}.hidden (id int)`) // owned by the superuser, no grant: invisible to ctera
  })
  await withClient(postgres.app, async (app) => {
    await app.query(`CREATE TABLE ${SCHEMA}.a_table AS SELECT generate_series(1, 1000) AS id`)
    await app.query(`ANALYZE ${SCHEMA}.a_table`)
    await app.query(`CREATE TABLE ${SCHEMA}.b_parted (id int) PARTITION BY RANGE (id)`)
    await app.query(`CREATE VIEW ${SCHEMA}.c_view AS SELECT 1 AS one`)
    await app.query(`CREATE TABLE ${SCHEMA}.d_never_analyzed (id int)`)
  })
  // The server version is shown only with HEALTH_DETAILS on (test/hardening/exposure.test.ts: off).
  service = await startService(postgres.app, { healthDetails: true })
  client = new GraphQLClient(`${service.url}/graphql`)
})
afterAll(() => service.close())

describe('database insight', () => {
  it('tells the database name, version, size, uptime, recovery state and connections', async () => {
    const expected = await withClient(postgres.app, async (app) => {
      const result = await app.query(
        "SELECT current_setting('server_version') AS version, current_setting('max_connections')::int AS max",
      )
      return result.rows[0]
    })

    const database = present((await client.request(DatabaseOverviewDocument)).database)

    expect(database.name).toBe('postgres')
    expect(database.serverVersion).toBe(expected.version)
    expect(database.sizeBytes).toBeGreaterThan(1_000_000)
    expect(database.uptimeSeconds).toBeGreaterThan(0)
    expect(database.inRecovery).toBe(false)
    expect(database.connections.max).toBe(expected.max)
    expect(database.connections.active).toBeGreaterThanOrEqual(1) // this very query
  })

  it('lists one schema\u2019s tables with kind, row estimate and size, as the service user sees them', async () => {
    const { database } = await client.request(DatabaseTablesDocument, { schema: SCHEMA })
    const { nodes, totalCount } = present(database?.tables)

    expect(nodes.map((table) => [table.name, table.kind])).toEqual([
      ['a_table', 'TABLE'],
      ['b_parted', 'PARTITIONED_TABLE'],
      ['c_view', 'VIEW'],
      ['d_never_analyzed', 'TABLE'],
    ])
    expect(totalCount).toBe(4)
    expect(nodes[0]).toMatchObject({ schema: SCHEMA, rowEstimate: 1000 })
    expect(nodes[0]?.sizeBytes).toBeGreaterThan(8000)
    expect(nodes[3]?.rowEstimate).toBeNull()
  })

  it('pages through every table with first/after, and the total matches numberOfTables', async () => {
    const numberOfTables = present((await client.request(DefaultNumberOfTablesDocument)).numberOfTables)
    const seen: string[] = []
    let after: string | null = null
    let pages = 0
    do {
      const { database }: DatabaseTablesQuery = await client.request(DatabaseTablesDocument, {
        first: 40,
        after,
      })
      const tables: NonNullable<NonNullable<DatabaseTablesQuery['database']>['tables']> = present(
        database?.tables,
      )
      seen.push(...tables.nodes.map((table) => `${table.schema}.${table.name}`))
      expect(tables.totalCount).toBe(numberOfTables)
      after = tables.pageInfo.hasNextPage ? (tables.pageInfo.endCursor ?? null) : null
      pages++
    } while (after && pages < 100)

    expect(seen).toHaveLength(numberOfTables)
    expect(new Set(seen).size).toBe(numberOfTables)
    expect(pages).toBe(Math.ceil(numberOfTables / 40))
    expect(seen).not.toContain(`${SCHEMA}.hidden`)
  })

  it.each<[DatabaseTablesQueryVariables, string]>([
    [{ first: 0 }, 'first must be from 1 to 500'],
    [{ first: 501 }, 'first must be from 1 to 500'],
    [{ after: 'not-a-cursor' }, 'after is not a cursor returned by this API'],
    [{ after: 'x'.repeat(1000) }, 'after is not a cursor returned by this API'],
    [{ schema: 'y'.repeat(64) }, 'schema must be at most 63 characters'],
  ])('refuses out-of-bounds input %j with BAD_USER_INPUT', async (variables, message) => {
    const error = await client.request(DatabaseTablesDocument, variables).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ClientError)
    const [first] = (error as ClientError).response.errors ?? []
    expect(first?.message).toBe(message)
    expect(first?.extensions?.code).toBe('BAD_USER_INPUT')
  })
})
