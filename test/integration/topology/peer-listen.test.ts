/**
 * `--peer-listen HOST:PORT`: the peer endpoint on its own address and nowhere else. Peers link
 * through the listener (plain and TLS); the client port refuses `/_peer`; the listener answers
 * 404 to every other path and never opens a room. Real sockets on 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { createRelay, type Relay } from '../../../relay/server/server.ts'
import { keysOf, synced, type Client } from './cluster.ts'
import { makeTestCerts, type TestCerts } from './certs.ts'
import { httpsGet, secureClient, startSecureMember, tryUpgrade, until, type SecureMember } from './secure-member.ts'

let certs: TestCerts
let members: SecureMember[] = []
let clients: Client[] = []
let relays: Relay[] = []

beforeAll(() => { certs = makeTestCerts() })
afterAll(() => certs.remove())
afterEach(async () => {
  for (const c of clients) c.destroy()
  for (const m of members) await m.stop()
  for (const r of relays) await r.close()
  members = []
  clients = []
  relays = []
})

async function member(o: Parameters<typeof startSecureMember>[0]): Promise<SecureMember> {
  const m = await startSecureMember(o)
  members.push(m)
  return m
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
}

describe('--peer-listen', () => {
  it('peers link through the listener, and a client write on one relay reaches a client of the other', async () => {
    const a = await member({ id: 'a', peerListen: '127.0.0.1:0' })
    const listen = a.ext.node!.peerListenUrl!
    expect(listen).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(listen).not.toBe(a.relay.url)
    const b = await member({ id: 'b', peers: [listen] })
    await until('a and b linked', () => a.linked().includes('b') && b.linked().includes('a'))
    const ca = secureClient(a.relay.url, 'listen-room')
    const cb = secureClient(b.relay.url, 'listen-room')
    clients.push(ca, cb)
    await Promise.all([synced(ca), synced(cb)])
    ca.doc.getMap('m').set('from-a', 1)
    await until('b\'s client holds a\'s write', () => keysOf(cb.doc).includes('from-a'))
    expect(a.logged(/peer listener ready/)).toHaveLength(1)
  })

  it('the client port refuses /_peer with 404, so a peer dialling it never links', async () => {
    const a = await member({ id: 'a', peerListen: '127.0.0.1:0' })
    expect(await tryUpgrade(`${a.relay.url}/_peer`)).toEqual({ outcome: 'refused', status: 404 })
    // The listener does upgrade /_peer (the same request, on its address).
    expect(await tryUpgrade(`${a.ext.node!.peerListenUrl}/_peer`)).toEqual({ outcome: 'open' })
    const b = await member({ id: 'b', peers: [a.relay.url] })
    await until('b\'s dials were refused', () => b.logged(/peer dial failed/).length >= 3)
    expect(b.logs().some((l) => /404/.test(String(l.err)))).toBe(true)
    expect(a.linked()).toEqual([])
    expect(b.linked()).toEqual([])
    expect([...a.relay.rooms.loaded()].map((r) => r.name)).toEqual([])
  })

  it('the listener answers 404 to every other path, WebSocket or HTTP, and opens no room', async () => {
    const a = await member({ id: 'a', peerListen: '127.0.0.1:0' })
    const listen = a.ext.node!.peerListenUrl!
    const http = listen.replace(/^ws:/, 'http:')
    expect(await tryUpgrade(`${listen}/some-room`)).toEqual({ outcome: 'refused', status: 404 })
    expect(await tryUpgrade(`${listen}/_peer/x`)).toEqual({ outcome: 'refused', status: 404 })
    expect(await httpGet(`${http}/health`)).toBe(404)
    expect(await httpGet(`${http}/api/rooms/some-room`)).toBe(404)
    expect(await httpGet(`${http}/metrics`)).toBe(404)
    expect(await httpGet(`${http}/_peer`)).toBe(426)
    expect([...a.relay.rooms.loaded()].map((r) => r.name)).toEqual([])
    expect(await a.relay.storage.listRooms()).toEqual([])
    // The same room path on the client port is a room (the client port is untouched).
    expect(await tryUpgrade(`${a.relay.url}/some-room`)).toEqual({ outcome: 'open' })
  })

  it('serves wss:// with the relay\'s certificate when it has one, and a verified peer links through it', async () => {
    const tls = { certFile: certs.certFile, keyFile: certs.keyFile }
    const a = await member({ id: 'a', tls, peerListen: '127.0.0.1:0' })
    const listen = a.ext.node!.peerListenUrl!
    expect(listen).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/)
    expect((await httpsGet(`${listen.replace(/^wss:/, 'https:')}/health`, certs.ca)).status).toBe(404)
    const b = await member({ id: 'b', peers: [listen], peerCa: certs.ca })
    await until('a and b linked over the TLS listener', () => a.linked().includes('b') && b.linked().includes('a'))
  })

  it('stops with the relay: its port is closed after close()', async () => {
    const a = await startSecureMember({ id: 'a', peerListen: '127.0.0.1:0' })
    const listen = a.ext.node!.peerListenUrl!
    const b = await member({ id: 'b', peers: [listen] })
    await until('linked', () => b.linked().includes('a'))
    await a.stop()
    const after = await tryUpgrade(`${listen}/_peer`)
    expect(after.outcome).toBe('error')
    await until('b saw the link go down', () => b.linked().length === 0)
  })
})

describe('without --peer-listen', () => {
  it('/_peer stays on the client port; a relay without the topology refuses it with 404 instead of opening a room', async () => {
    const a = await member({ id: 'a' })
    expect(await tryUpgrade(`${a.relay.url}/_peer`)).toEqual({ outcome: 'open' })
    expect(a.ext.node!.peerListenUrl).toBeNull()
    const plain = await createRelay({ host: '127.0.0.1', port: 0, storage: 'memory', logLevel: 'silent' })
    relays.push(plain)
    expect(await tryUpgrade(`${plain.url}/_peer`)).toEqual({ outcome: 'refused', status: 404 })
    expect([...plain.rooms.loaded()].map((r) => r.name)).toEqual([])
  })
})
