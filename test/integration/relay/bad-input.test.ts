import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connect } from 'node:net'
import { connectProvider, RawClient, waitConverged } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

/** Sends a raw upgrade request for `path` over TCP; resolves with the HTTP status and body (101 on upgrade). */
function upgrade(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let out = ''
    socket.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.startsWith('HTTP/1.1 101')) socket.destroy()
    })
    socket.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n')
      resolve({ status: Number(head.split(' ')[1]), body })
    })
    socket.on('error', reject)
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    )
  })
}

describe('bad input', () => {
  it('invalid room names are refused with 400 and a reason before the upgrade', async () => {
    const r = await relay()
    const cases: Array<[string, RegExp]> = [
      ['/', /empty/],
      [`/${'a'.repeat(257)}`, /longer than 256/],
      [`/${encodeURIComponent('é'.repeat(129))}`, /longer than 256/],
      ['/a%2F..%2Fb', /\.\./],
      ['/a%00b', /control/],
      ['/a%1Fb', /control/],
      ['/%E0%A4%A', /percent/],
    ]
    for (const [path, reason] of cases) {
      const res = await upgrade(r.port, path)
      expect(res.status, path).toBe(400)
      expect(res.body, path).toMatch(reason)
    }
    expect((await upgrade(r.port, `/${'a'.repeat(256)}`)).status).toBe(101)
    expect((await upgrade(r.port, '/ok/nested%20room')).status).toBe(101)
  })

  it('closes offenders with documented codes; others in the room keep working and nothing is stored', async () => {
    const r = await relay({ maxMessageBytes: 64 * 1024 })
    const a = await connectProvider(r.url, 'shared')
    const b = await connectProvider(r.url, 'shared')
    cleanups.push(() => a.destroy(), () => b.destroy())
    const valid = new Y.Doc()
    valid.getText('t').insert(0, 'x')
    const update = Y.encodeStateAsUpdate(valid)
    const cases: Array<[string, Uint8Array | string, number]> = [
      ['oversized', new Uint8Array(64 * 1024 + 1), 1009],
      ['truncated', encodeSyncUpdate(update).subarray(0, 5), 4400],
      ['trailing bytes', new Uint8Array([...encodeSyncUpdate(update), 0]), 4400],
      ['unknown type', new Uint8Array([42, 0]), 4405],
      ['unknown sync type', new Uint8Array([0, 7, 0]), 4405],
      ['junk update', new Uint8Array([0, 2, 4, 200, 1, 255, 9]), 4422],
      ['junk awareness', new Uint8Array([1, 3, 1, 1, 1]), 4422],
      ['text frame', 'hello', 4400],
      ['empty frame', new Uint8Array(), 4400],
    ]
    const doc = r.relay.rooms.peek('shared')!.doc
    for (const [name, frame, code] of cases) {
      const bad = await RawClient.connect(r.url, 'shared')
      bad.send(frame)
      expect(await bad.waitClosed(), name).toBe(code)
    }
    // Refused before anything of it was integrated: the room's doc was not rebuilt from storage.
    expect(r.relay.rooms.peek('shared')!.doc).toBe(doc)
    a.doc.getText('t').insert(0, 'still fine')
    await waitConverged([a.doc, b.doc])
    expect(b.doc.getText('t').toString()).toBe('still fine')
    await r.relay.rooms.flushAll()
    const stored = new Y.Doc()
    for (const u of await r.relay.storage.load('shared')) Y.applyUpdate(stored, u)
    expect(stored.getText('t').toString()).toBe('still fine')
    expect((await fetch(`${r.httpUrl}/health`)).status).toBe(200)
  })

  it('updates with missing dependencies are held, stored, and complete later', async () => {
    const r = await relay()
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (u: Uint8Array) => updates.push(u))
    source.getText('t').insert(0, 'a')
    source.getText('t').insert(1, 'b')
    const raw = await RawClient.connect(r.url, 'gap')
    cleanups.push(() => raw.close())
    raw.send(encodeSyncUpdate(updates[1]!))
    await r.relay.rooms.get('gap').then((room) => waitFor(() => room.unsaved === 0 && room.doc.store.pendingStructs !== null))
    await r.relay.rooms.flushAll()
    expect(await r.relay.storage.load('gap')).toHaveLength(1)
    raw.send(encodeSyncUpdate(updates[0]!))
    const c = await connectProvider(r.url, 'gap')
    cleanups.push(() => c.destroy())
    await waitFor(() => c.doc.getText('t').toString() === 'ab')
    expect(raw.closeCode).toBeNull()
  })
})
