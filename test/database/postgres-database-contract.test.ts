import { inject } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createPostgresDatabase } from '../../src/db/postgres.js'
import { createLogger } from '../../src/logger.js'
import { findFreePort } from '../../src/net/free-port.js'
import { databaseContract } from '../contract/database.contract.js'
import { withClient } from '../support/postgres.js'

databaseContract('PostgreSQL', async () => {
  const postgres = inject('postgres')
  const options = { ...loadConfig({}), poolMax: 2 }
  const logger = createLogger('silent')
  const db = createPostgresDatabase(postgres.app, options, logger)
  const unreachable = createPostgresDatabase({ ...postgres.app, port: await findFreePort() }, options, logger)
  const schemas: string[] = []
  return {
    db,
    unreachable,
    createTables: (schema, tables) =>
      withClient(postgres.admin, async (client) => {
        schemas.push(schema)
        await client.query(`CREATE SCHEMA "${schema}"`)
        for (const table of tables) {
          await client.query(
            table.kind === 'VIEW'
              ? `CREATE VIEW "${schema}"."${table.name}" AS SELECT 1 AS one`
              : `CREATE TABLE "${schema}"."${table.name}" (id int)`,
          )
        }
        await client.query(`GRANT USAGE ON SCHEMA "${schema}" TO ctera`)
        await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO ctera`)
      }),
    close: async () => {
      await db.close()
      await unreachable.close()
      await withClient(postgres.admin, async (client) => {
        for (const schema of schemas) await client.query(`DROP SCHEMA "${schema}" CASCADE`)
      })
    },
  }
})
