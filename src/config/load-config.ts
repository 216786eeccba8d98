import type { Env } from './readers.js'
import { SETTINGS } from './settings.js'

type Values = { [K in keyof typeof SETTINGS]: ReturnType<(typeof SETTINGS)[K]['read']> }
type Required = { [K in keyof Values as undefined extends Values[K] ? never : K]: Values[K] }
type Optional = { [K in keyof Values as undefined extends Values[K] ? K : never]?: Values[K] }

/** The service's settings, read once from the environment (src/config/settings.ts says what each is). */
export type Config = Required & Optional

/** Reads every setting, in the table's order; the first bad one throws a ConfigError naming its variable. */
export function loadConfig(env: Env = process.env): Config {
  const config: Record<string, unknown> = {}
  for (const [key, setting] of Object.entries(SETTINGS)) config[key] = setting.read(env)
  return config as Config
}
