/**
 * The forwarding path's shortcuts keep what clients see exact: an update the room already
 * holds is neither forwarded again nor stored again; the whole-state answer cached for
 * empty joiners follows every change (including one that only deletes); frames sent in one
 * turn arrive whole and in order.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { startRelay } from '../../fixtures/relay.ts'
import { connectProvider, RawClient, waitConverged } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { MESSAGE_SYNC, encodeSyncStep1, encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

/** Sync updates (type 0, sub-type 2) among a raw client's frames. */
function syncUpdates(client: RawClient): Uint8Array[] {
  return client.frames.flatMap((frame) => {
    const d = decoding.createDecoder(frame)
    if (decoding.readVarUint(d) !== MESSAGE_SYNC || decoding.readVarUint(d) !== 2) return []
    return [decoding.readVarUint8Array(d)]
  })
}

describe('forwarding', () => {
  it('an update the room already holds is not forwarded or stored again', async () => {
    const r = await startRelay({ storage: 'memory' })
    cleanups.push(() => r.stop())
    const writer = await RawClient.connect(r.url, 'dup')
    const reader = await RawClient.connect(r.url, 'dup')
    cleanups.push(() => writer.close(), () => reader.close())
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    doc.getText('t').insert(0, 'hello')
    doc.getText('t').delete(1, 2)
    for (const u of updates) writer.send(encodeSyncUpdate(u))
    await waitFor(() => syncUpdates(reader).length === 2, { message: 'both updates forwarded' })
    for (const u of updates) writer.send(encodeSyncUpdate(u)) // again: nothing new
    writer.send(encodeSyncUpdate(Y.encodeStateAsUpdate(doc))) // the whole state: nothing new either
    const marker = new Y.Doc()
    marker.getMap('m').set('k', 1)
    writer.send(encodeSyncUpdate(Y.encodeStateAsUpdate(marker)))
    await waitFor(() => syncUpdates(reader).length === 3, { message: 'the marker forwarded' })
    const got = new Y.Doc()
    for (const u of syncUpdates(reader)) Y.applyUpdate(got, u)
    expect(got.getText('t').toString()).toBe('hlo')
    expect(got.getMap('m').get('k')).toBe(1)
    const room = r.relay.rooms.peek('dup')!
    await room.settled()
    expect(await r.relay.storage.load('dup')).toHaveLength(3)
  })

  it('formatted text in a nested type is forwarded and stored (Yjs cleans formatting up in a second transaction)', async () => {
    const r = await startRelay({ storage: 'memory' })
    cleanups.push(() => r.stop())
    const writer = await RawClient.connect(r.url, 'bold')
    const reader = await RawClient.connect(r.url, 'bold')
    cleanups.push(() => writer.close(), () => reader.close())
    const a = new Y.Doc()
    const b = new Y.Doc()
    // Nested, as y-prosemirror's XmlText: the relay's doc then knows it as a Y.Text (a root type
    // it never asked for would stay untyped and skip Yjs's formatting clean-up).
    const text = (doc: Y.Doc): Y.Text => doc.getMap('m').get('t') as Y.Text
    a.getMap('m').set('t', new Y.Text('plain '))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const sent: Uint8Array[] = [Y.encodeStateAsUpdate(a)]
    // Both type bold at the same spot, concurrently: each update carries formatting items.
    for (const [doc, str] of [[a, 'alpha '], [b, 'beta ']] as const) {
      const before = Y.encodeStateVector(doc)
      text(doc).insert(6, str, { bold: true })
      sent.push(Y.encodeStateAsUpdate(doc, before))
    }
    for (const u of sent) writer.send(encodeSyncUpdate(u))
    await waitFor(() => syncUpdates(reader).length === 3, { message: 'all three updates forwarded' })
    const got = new Y.Doc()
    for (const u of syncUpdates(reader)) Y.applyUpdate(got, u)
    for (const u of sent) Y.applyUpdate(a, u)
    expect(text(got).toDelta()).toEqual(text(a).toDelta())
    expect(text(got).toString()).toContain('alpha ')
    expect(text(got).toString()).toContain('beta ')
    const room = r.relay.rooms.peek('bold')!
    await room.settled()
    expect(await r.relay.storage.load('bold')).toHaveLength(3)
  })

  it('an empty joiner gets the current whole state after every kind of change', async () => {
    const r = await startRelay({ storage: 'memory' })
    cleanups.push(() => r.stop())
    const a = await connectProvider(r.url, 'cache')
    cleanups.push(() => a.destroy())
    const text = a.doc.getText('t')
    const steps: Array<() => void> = [
      () => text.insert(0, 'abcdef'),
      () => text.delete(2, 2), // deletions only
      () => a.doc.getMap('m').set('x', 'y'),
      () => text.format(0, 2, { bold: true }),
    ]
    for (const step of steps) {
      step()
      const joiner = await RawClient.connect(r.url, 'cache')
      cleanups.push(() => joiner.close())
      const joined = new Y.Doc()
      joiner.send(encodeSyncStep1(Y.encodeStateVector(joined)))
      // Joiners also receive forwarded updates; wait until what they got rebuilds the writer's doc.
      await waitFor(
        () => {
          const d = new Y.Doc()
          for (const frame of joiner.frames) {
            const dec = decoding.createDecoder(frame)
            if (decoding.readVarUint(dec) !== MESSAGE_SYNC) continue
            const sub = decoding.readVarUint(dec)
            if (sub === 1 || sub === 2) Y.applyUpdate(d, decoding.readVarUint8Array(dec))
          }
          return Buffer.from(Y.encodeStateAsUpdate(d)).equals(Buffer.from(Y.encodeStateAsUpdate(a.doc)))
        },
        { message: 'joiner holds the current state' },
      )
      joiner.close()
    }
    const b = await connectProvider(r.url, 'cache')
    cleanups.push(() => b.destroy())
    await waitConverged([a.doc, b.doc])
    expect(b.doc.getText('t').toDelta()).toEqual(a.doc.getText('t').toDelta())
  })

  it('many frames to one client in one turn arrive whole and in order', async () => {
    const r = await startRelay({ storage: 'memory' })
    cleanups.push(() => r.stop())
    const reader = await connectProvider(r.url, 'burst')
    const writer = await RawClient.connect(r.url, 'burst')
    cleanups.push(() => reader.destroy(), () => writer.close())
    const doc = new Y.Doc()
    doc.on('update', (u: Uint8Array) => writer.send(encodeSyncUpdate(u)))
    for (let i = 0; i < 500; i++) doc.getArray<number>('a').push([i])
    await waitFor(() => reader.doc.getArray('a').length === 500, { message: '500 pushes at the reader' })
    expect(reader.doc.getArray<number>('a').toArray()).toEqual(Array.from({ length: 500 }, (_, i) => i))
  })
})
