/**
 * The relay's one structured logger (pino). Library code logs with fields
 * (`room`, `conn`, `code`, `reason`), never with string concatenation.
 *
 * Output is JSON lines, or human-readable lines through pino-pretty (in-process, no worker
 * thread) when the format is `pretty`, or `auto` and the destination is a terminal.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { pino, type Logger, type LevelWithSilent } from 'pino'
import type PinoPretty from 'pino-pretty'

/** pino-pretty is loaded only for pretty output (a production relay logs JSON and never needs it). */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty

export type { Logger }

/** `json` lines, `pretty` (human-readable) or `auto`: pretty on a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty'

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Default `json` (embedders and tests); the CLI passes `--log-format` (default `auto`). */
  format?: LogFormat
}

/** Whether `format` means pretty output on `destination` (stdout when not given). */
export function usePrettyLogs(format: LogFormat, destination: NodeJS.WritableStream = process.stdout): boolean {
  if (format === 'auto') return (destination as { isTTY?: boolean }).isTTY === true
  return format === 'pretty'
}

/** A pino logger writing to stdout (or `destination`) at `level`, as JSON lines unless `options.format` says pretty. */
export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream, options: LoggerOptions = {}): Logger {
  const pinoOptions = { level: level as LevelWithSilent, base: { name: 'tandem-relay' } }
  if (usePrettyLogs(options.format ?? 'json', destination)) {
    const stream = loadPretty()({
      destination: destination ?? 1,
      colorize: (destination ?? process.stdout) === process.stdout && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name',
      sync: true,
    })
    return pino(pinoOptions, stream)
  }
  return destination ? pino(pinoOptions, destination as pino.DestinationStream) : pino(pinoOptions)
}
