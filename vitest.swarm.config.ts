import { defineConfig } from 'vitest/config'

// npm run test:swarm: the stack on a real swarm, apart from `npm test` and the container suite. It needs a
// Docker engine (npm run containers:setup); it starts a single-node swarm itself when there is none.
export default defineConfig({
  test: {
    include: ['test/swarm/**/*.swarm.ts'],
    // One stack, used in order by one file.
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 300_000,
  },
})
