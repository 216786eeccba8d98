import type { TestProject } from 'vitest/node'
import type { ConnectionSettings } from '../../src/config/database-target.js'
import { startTestPostgres, useExternalPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { admin: ConnectionSettings; app: ConnectionSettings }
  }
}

export default async function setup(project: TestProject) {
  // CI's PostgreSQL matrix hands its server in through DATABASE_URL; otherwise the suite starts its own.
  const url = process.env.DATABASE_URL
  const postgres = url ? await useExternalPostgres(url) : await startTestPostgres()
  project.provide('postgres', { admin: postgres.admin, app: postgres.app })
  return () => postgres.destroy()
}
