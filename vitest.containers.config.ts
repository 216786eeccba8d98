import { defineConfig } from 'vitest/config'

// npm run test:containers: the container suite, apart from `npm test` (whose include is test/**/*.test.ts).
// It needs a Docker engine (npm run containers:setup) and no test database: it brings up its own stack.
export default defineConfig({
  test: {
    include: ['test/containers/**/*.containers.ts'],
    // One stack, used in order by one file.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
  },
})
