import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // Node (and so Pothos and yoga) loads graphql's CommonJS build; Vite would pick its .mjs build for
    // our files. Two copies of graphql cannot share a schema, so point Vite at the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One real PostgreSQL for the suite; tests that stop a database start their own.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
})
