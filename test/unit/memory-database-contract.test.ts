import { databaseContract } from '../contract/database.contract.js'
import { createMemoryDatabase } from '../support/memory-database.js'

databaseContract('in memory', async () => {
  const db = createMemoryDatabase()
  return {
    db,
    unreachable: createMemoryDatabase({ unreachable: 'connection refused' }),
    createTables: async (schema, tables) => db.addTables(...tables.map((table) => ({ schema, ...table }))),
    close: () => db.close(),
  }
})
