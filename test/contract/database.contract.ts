import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.js'
import { DatabaseUnavailableError } from '../../src/db/failure-reasons.js'

/** What the contract needs of an implementation of Database, and how to arrange its catalogue. */
export interface ContractSubject {
  /** A database that can be reached, as the service's role. */
  db: Database
  /** One that cannot: nothing listens where it points (connection refused). */
  unreachable: Database
  /** Creates `schema` with these tables and views, visible to the service's role. */
  createTables(schema: string, tables: Array<{ name: string; kind: 'TABLE' | 'VIEW' }>): Promise<void>
  close(): Promise<void>
}

/**
 * The behaviour the rest of the service relies on from `Database`, run against PostgreSQL (system lane:
 * test/database/postgres-database-contract.test.ts) and against the in-memory one the fast tests use
 * (test/unit/memory-database-contract.test.ts), so the fake cannot drift from the real thing.
 */
export function databaseContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`Database contract: ${name}`, () => {
    let subject: ContractSubject
    let db: Database
    // Unique per run, so that runs against a shared server do not see each other's tables.
    const schema = `contract_${Math.random().toString(36).slice(2, 8)}`

    beforeAll(async () => {
      subject = await makeSubject()
      db = subject.db
      await subject.createTables(schema, [
        { name: 'b_table', kind: 'TABLE' },
        { name: 'a_table', kind: 'TABLE' },
        { name: 'B_upper', kind: 'TABLE' },
        { name: 'c_view', kind: 'VIEW' },
      ])
    })
    afterAll(() => subject.close())

    it('reports a reachable database healthy, with a latency and the time of the check', async () => {
      const before = Date.now()

      const report = await db.checkHealth()

      expect(report).toMatchObject({ healthy: true, reason: null, role: 'primary', replayLagSeconds: null })
      expect(report.latencyMs).toBeGreaterThanOrEqual(0)
      expect(report.checkedAt.getTime()).toBeGreaterThanOrEqual(before - 1)
      expect(report.checkedAt.getTime()).toBeLessThanOrEqual(Date.now())
    })

    it('reports an unreachable database unhealthy with a fixed reason, without throwing', async () => {
      const report = await subject.unreachable.checkHealth()

      expect(report).toMatchObject({ healthy: false, reason: 'connection refused', role: null })
    })

    it('counts the tables and views of a schema, and none in a schema that does not exist', async () => {
      expect(await db.countTables({ schema, includeSystem: true })).toBe(4)
      expect(await db.countTables({ schema, includeSystem: false })).toBe(4)
      expect(await db.countTables({ schema: `${schema}_none`, includeSystem: true })).toBe(0)
    })

    it('counts the system catalogs only when asked to', async () => {
      const all = await db.countTables({ includeSystem: true })
      const user = await db.countTables({ includeSystem: false })

      expect(user).toBeGreaterThanOrEqual(4)
      expect(all).toBeGreaterThan(user)
      expect(await db.countTables({ schema: 'pg_catalog', includeSystem: false })).toBe(0)
      expect(await db.countTables({ schema: 'pg_catalog', includeSystem: true })).toBeGreaterThan(0)
    })

    it('lists a schema in byte order of (schema, name), with kinds and sizes', async () => {
      const page = await db.tables({ schema, includeSystem: true, first: 10 })

      expect(page.hasNextPage).toBe(false)
      expect(page.tables.map((table) => [table.schema, table.name, table.kind])).toEqual([
        [schema, 'B_upper', 'TABLE'],
        [schema, 'a_table', 'TABLE'],
        [schema, 'b_table', 'TABLE'],
        [schema, 'c_view', 'VIEW'],
      ])
      for (const table of page.tables) {
        expect(table.sizeBytes).toBeGreaterThanOrEqual(0)
        expect(table.rowEstimate === null || table.rowEstimate >= 0).toBe(true)
      }
    })

    it('pages with `after`: no table twice, none missed, and hasNextPage only before the last', async () => {
      const first = await db.tables({ schema, includeSystem: true, first: 3 })
      const last = first.tables.at(-1)
      const second = await db.tables({
        schema,
        includeSystem: true,
        first: 3,
        after: last && { schema: last.schema, name: last.name },
      })

      expect(first.hasNextPage).toBe(true)
      expect(first.tables.map((table) => table.name)).toEqual(['B_upper', 'a_table', 'b_table'])
      expect(second.hasNextPage).toBe(false)
      expect(second.tables.map((table) => table.name)).toEqual(['c_view'])
    })

    it('leaves the system catalogs out of the list when asked to', async () => {
      const page = await db.tables({ includeSystem: false, first: 500 })

      expect(page.tables.some((table) => table.schema === 'pg_catalog')).toBe(false)
      expect(page.tables.some((table) => table.schema === 'information_schema')).toBe(false)
    })

    it('describes the database it is connected to', async () => {
      const overview = await db.overview()

      expect(overview.name).toEqual(expect.any(String))
      expect(overview.serverVersion).toEqual(expect.any(String))
      expect(overview.sizeBytes).toBeGreaterThan(0)
      expect(overview.uptimeSeconds).toBeGreaterThanOrEqual(0)
      expect(overview.inRecovery).toBe(false)
      expect(overview.connections.max).toBeGreaterThan(0)
    })

    it('refuses queries on an unreachable database with DatabaseUnavailableError and the same reason', async () => {
      for (const query of [
        () => subject.unreachable.countTables({ includeSystem: true }),
        () => subject.unreachable.overview(),
        () => subject.unreachable.tables({ includeSystem: true, first: 1 }),
      ]) {
        const error = await query().catch((caught: unknown) => caught)

        expect(error).toBeInstanceOf(DatabaseUnavailableError)
        expect((error as DatabaseUnavailableError).reason).toBe('connection refused')
      }
    })

    it('states its pools, describes itself without a password, and closes twice safely', async () => {
      const stats = subject.unreachable.poolStats()

      expect(stats.queries.max).toBeGreaterThan(0)
      expect(stats.health.max).toBe(1)
      expect(subject.unreachable.description).toMatch(/^[a-z]+:\/\/[^:@/]+@[^/]+\/\S+$/)
      await subject.unreachable.close()
      await expect(subject.unreachable.close()).resolves.toBeUndefined()
    })
  })
}
