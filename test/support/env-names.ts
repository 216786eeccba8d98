import { SETTINGS } from '../../src/config/settings.js'

/** Every variable the service reads: the settings table's, and the three the image's health command reads itself. */
export function variablesTheAppReads(): Set<string> {
  const names = Object.values(SETTINGS).flatMap((setting) =>
    setting.variables.map((variable) => variable.name),
  )
  return new Set([...names, 'PORT', 'HOST', 'HEALTH_TIMEOUT_MS'])
}
