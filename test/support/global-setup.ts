import type { TestProject } from 'vitest/node'
import type { ConnectionSettings } from '../../src/config.js'
import { startTestPostgres } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { admin: ConnectionSettings; app: ConnectionSettings }
  }
}

export default async function setup(project: TestProject) {
  const postgres = await startTestPostgres()
  project.provide('postgres', { admin: postgres.admin, app: postgres.app })
  return () => postgres.destroy()
}
