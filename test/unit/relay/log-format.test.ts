/**
 * `--log-format json|pretty` (and `auto`): parsed by relay/config/config.ts, applied by
 * relay/observability/logger.ts (pino-pretty in-process for pretty, JSON lines otherwise).
 */
import { describe, expect, it } from 'vitest'
import { PassThrough } from 'node:stream'
import { ConfigError, HELP, parseConfig } from '../../../relay/config/config.ts'
import { createLogger, usePrettyLogs } from '../../../relay/observability/logger.ts'

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  let out = ''
  stream.on('data', (chunk: Buffer) => (out += chunk.toString()))
  return { stream, text: () => out }
}

describe('--log-format', () => {
  it('parses json, pretty and auto (the default), from the flag or TANDEM_LOG_FORMAT, and refuses anything else', () => {
    expect(parseConfig([], {}).logFormat).toBe('auto')
    expect(parseConfig(['--log-format', 'json'], {}).logFormat).toBe('json')
    expect(parseConfig([], { TANDEM_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty')
    expect(parseConfig(['--log-format', 'json'], { TANDEM_LOG_FORMAT: 'pretty' }).logFormat).toBe('json')
    expect(() => parseConfig(['--log-format', 'xml'], {})).toThrow(ConfigError)
    expect(HELP).toContain('--log-format')
    expect(HELP).toContain('TANDEM_LOG_FORMAT')
  })

  it('--version is a flag of its own', () => {
    expect(parseConfig(['--version'], {}).version).toBe(true)
    expect(parseConfig([], {}).version).toBe(false)
    expect(HELP).toContain('--version')
  })

  it('auto means pretty only on a terminal', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true })
    expect(usePrettyLogs('auto', tty)).toBe(true)
    expect(usePrettyLogs('auto', new PassThrough())).toBe(false)
    expect(usePrettyLogs('json', tty)).toBe(false)
    expect(usePrettyLogs('pretty', new PassThrough())).toBe(true)
  })

  it('json writes one JSON object per line with the fields', () => {
    const out = capture()
    createLogger('info', out.stream, { format: 'json' }).info({ room: 'notes', code: 'too-large' }, 'refused')
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>
    expect(line).toMatchObject({ level: 30, name: 'tandem-relay', room: 'notes', code: 'too-large', msg: 'refused' })
  })

  it('pretty writes a human-readable line with the level, the message and the fields', () => {
    const out = capture()
    createLogger('info', out.stream, { format: 'pretty' }).warn({ room: 'notes' }, 'slow flush')
    const text = out.text()
    expect(() => JSON.parse(text)).toThrow()
    expect(text).toMatch(/WARN.*slow flush/)
    expect(text).toContain('room: "notes"')
  })
})
