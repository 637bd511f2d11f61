import { describe, expect, it } from 'vitest'
import { isLoopbackHost, peerExposure, type ExposureInput } from '../../../relay/topology/peer-exposure.ts'

const base: ExposureInput = { peers: [], acceptsPeers: true, host: '127.0.0.1', tls: false }

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'relay.localhost', '::1', '[::1]', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true)
  })
  it.each(['0.0.0.0', '::', '[::]', '10.0.0.5', '192.168.1.2', '128.0.0.1', 'relay.example', 'localhost.example', '::ffff:10.0.0.1', ''])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false)
  })
})

describe('peerExposure', () => {
  const QUIET: Array<[string, Partial<ExposureInput>]> = [
    ['loopback client port, no peers dialled', {}],
    ['no peer links at all (no secret, no peers), even on 0.0.0.0', { acceptsPeers: false, host: '0.0.0.0' }],
    ['TLS on a public interface', { host: '0.0.0.0', tls: true }],
    ['--peer-listen on loopback, client port public', { host: '0.0.0.0', peerListen: '127.0.0.1:7000' }],
    ['--peer-listen on a public interface with TLS', { host: '0.0.0.0', peerListen: '0.0.0.0:7000', tls: true }],
    ['--peer-listen on [::1]', { host: '::', peerListen: '[::1]:7000' }],
    ['ws:// peers on loopback', { peers: ['ws://127.0.0.1:1', 'ws://localhost:2', 'ws://[::1]:3'] }],
    ['wss:// peers anywhere', { peers: ['wss://relay.example:443', 'wss://10.0.0.2:7000'] }],
  ]
  for (const [name, input] of QUIET) {
    it(`no warning: ${name}`, () => expect(peerExposure({ ...base, ...input })).toBeNull())
  }

  it('warns for /_peer on a public client port without TLS, and says the client port is in clear', () => {
    const e = peerExposure({ ...base, host: '0.0.0.0' })
    expect(e?.servedInClear).toBe('client port on 0.0.0.0')
    expect(e?.dialledInClear).toEqual([])
    expect(e?.message).toMatch(/\/_peer is served without TLS \(client port on 0\.0\.0\.0\)/)
    expect(e?.message).toMatch(/AES-GCM/)
    expect(e?.message).toMatch(/size and timing/)
    expect(e?.message).toMatch(/client port itself is plain/)
    expect(e?.message).toMatch(/--tls-cert.*--peer-listen.*TLS proxy/)
  })

  it('warns for a dialling-only relay on a public host too (it serves /_peer as well)', () => {
    expect(peerExposure({ ...base, acceptsPeers: false, peers: ['ws://127.0.0.1:1'], host: '10.1.2.3' })?.servedInClear).toBe('client port on 10.1.2.3')
  })

  it('warns for --peer-listen on a public interface without TLS, not about the client port', () => {
    const e = peerExposure({ ...base, peerListen: '0.0.0.0:7000' })
    expect(e?.servedInClear).toBe('--peer-listen 0.0.0.0:7000')
    expect(e?.message).not.toMatch(/client port itself/)
  })

  it('warns for ws:// peers beyond loopback, listing only those, even with TLS served', () => {
    const e = peerExposure({ ...base, tls: true, peers: ['ws://127.0.0.1:1', 'ws://10.0.0.2:7000', 'wss://10.0.0.3:7000', 'ws://relay.example:1'] })
    expect(e?.servedInClear).toBeNull()
    expect(e?.dialledInClear).toEqual(['ws://10.0.0.2:7000', 'ws://relay.example:1'])
    expect(e?.message).toMatch(/dialled over ws:\/\/ \(ws:\/\/10\.0\.0\.2:7000, ws:\/\/relay\.example:1\)/)
  })

  it('says both when both hold, in one message', () => {
    const e = peerExposure({ ...base, host: '::', peers: ['ws://10.0.0.2:7000'] })
    expect(e?.servedInClear).toBe('client port on ::')
    expect(e?.dialledInClear).toEqual(['ws://10.0.0.2:7000'])
    expect(e?.message.split('\n')).toHaveLength(1)
  })
})
