import { type Env, loadConfig } from '../../src/config.js'

/** Every variable loadConfig looks at, found by running it on environments that record each read. */
export function variablesTheAppReads(): Set<string> {
  const read = new Set<string>()
  const recording = (values: Env): Env =>
    new Proxy(values, {
      get(target, name) {
        if (typeof name === 'string') read.add(name)
        return target[name as string]
      },
    })
  loadConfig(recording({}))
  loadConfig(recording({ DB_HOST: 'db', DB_PASSWORD: 'x' }))
  loadConfig(recording({ DATABASE_URL: 'postgres://u@h/d' }))
  // The image's health command reads these three itself.
  for (const name of ['PORT', 'HOST', 'HEALTH_TIMEOUT_MS']) read.add(name)
  return read
}
