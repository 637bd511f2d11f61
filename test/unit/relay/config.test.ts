import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_CONFIG, HELP, parseConfig } from '../../../relay/config/config.ts'

describe('parseConfig', () => {
  it('defaults', () => {
    const c = parseConfig([], {})
    expect(c).toMatchObject({ host: '127.0.0.1', port: 1234, data: './data', storage: 'leveldb', maxMessageBytes: 1024 * 1024, static: 'editor/dist', topology: 'mesh', peers: [], id: '127.0.0.1:1234', help: false })
    expect(c.idleMs).toBe(DEFAULT_CONFIG.idleMs)
  })
  it('env, and flags over env', () => {
    const env = { HOST: '0.0.0.0', PORT: '9', TANDEM_DATA: '/d', TANDEM_MAX_MESSAGE_BYTES: '10', TANDEM_IDLE_MS: '5', TANDEM_FLUSH_MS: '7', TANDEM_STATIC: 's', LOG_LEVEL: 'debug', TANDEM_ID: 'r1', TANDEM_PEERS: 'ws://a:1, ws://b:2', TANDEM_TOPOLOGY: 'star', TANDEM_HUB: 'r1', TANDEM_PEER_SECRET: 'x', TANDEM_STORAGE: 'memory' }
    expect(parseConfig([], env)).toMatchObject({ host: '0.0.0.0', port: 9, data: '/d', maxMessageBytes: 10, idleMs: 5, flushMs: 7, static: 's', logLevel: 'debug', id: 'r1', peers: ['ws://a:1', 'ws://b:2'], topology: 'star', hub: 'r1', peerSecret: 'x', storage: 'memory' })
    expect(parseConfig(['--port', '77', '--storage', 'leveldb', '--topology', 'ring'], env)).toMatchObject({ port: 77, storage: 'leveldb', topology: 'ring' })
  })
  it('refuses bad values and unknown flags', () => {
    expect(() => parseConfig(['--port', 'x'], {})).toThrow(ConfigError)
    expect(() => parseConfig(['--storage', 'redis'], {})).toThrow(/memory/)
    expect(() => parseConfig(['--topology', 'tree'], {})).toThrow(ConfigError)
    expect(() => parseConfig(['--peers', 'http://x'], {})).toThrow(/ws:\/\//)
    expect(() => parseConfig(['--nope'], {})).toThrow(ConfigError)
  })
  it('--durability (default sync: acks are fsynced) and --compact-bytes', () => {
    expect(parseConfig([], {})).toMatchObject({ durability: 'sync', compactBytes: 64 * 1024 })
    expect(parseConfig([], { TANDEM_DURABILITY: 'process', TANDEM_COMPACT_BYTES: '1000' })).toMatchObject({ durability: 'process', compactBytes: 1000 })
    expect(parseConfig(['--durability', 'sync', '--compact-bytes', '5'], { TANDEM_DURABILITY: 'process' })).toMatchObject({ durability: 'sync', compactBytes: 5 })
    expect(() => parseConfig(['--durability', 'fast'], {})).toThrow(/sync, process/)
    expect(() => parseConfig(['--compact-bytes', '0'], {})).toThrow(ConfigError)
    for (const flag of ['--durability', '--compact-bytes']) expect(HELP).toContain(flag)
  })
  it('--help, and the help text names every flag', () => {
    expect(parseConfig(['--help'], {}).help).toBe(true)
    for (const flag of ['--host', '--port', '--data', '--storage', '--max-message-bytes', '--idle-ms', '--flush-ms', '--static', '--log-level', '--id', '--peers', '--topology', '--hub', '--peer-secret', '--help']) expect(HELP).toContain(flag)
  })
})
