import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from './config/settings.js'

export type { Logger }

/**
 * One JSON object per line on stdout. Redaction is a second line of defence: no code path logs a
 * password or a connection string on purpose.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ctera-app' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', '*.password', 'connectionString', '*.connectionString'],
        censor: '[redacted]',
      },
    },
    destination,
  )
}
