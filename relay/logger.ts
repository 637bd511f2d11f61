/**
 * The relay's one structured logger (pino). Library code logs with fields
 * (`room`, `conn`, `code`, `reason`), never with string concatenation.
 *
 * @module
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** A pino logger writing JSON lines to stdout (or `destination`) at `level`. */
export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level: level as LevelWithSilent, base: { name: 'tandem-relay' } }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options)
}
