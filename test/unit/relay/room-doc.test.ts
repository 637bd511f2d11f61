/**
 * `RoomDoc` and `RoomAwareness` replace lib0's `emit`: events must reach exactly the listeners
 * lib0 would call, with the same arguments, and the objects must behave as stock ones for Yjs
 * and y-protocols.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { RoomAwareness, RoomDoc } from '../../../relay/room/room-doc.ts'

describe('RoomDoc', () => {
  it('delivers Yjs events with their arguments, and syncs like a Y.Doc', () => {
    const doc = new RoomDoc()
    const seen: string[] = []
    const updates: Uint8Array[] = []
    doc.on('beforeTransaction', (_t, d) => seen.push(`before ${d === doc}`))
    doc.on('afterTransaction', (t, d) => seen.push(`after ${String(t.origin)} ${d === doc}`))
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      updates.push(u)
      seen.push(`update ${String(origin)}`)
    })
    const source = new Y.Doc()
    source.getText('t').insert(0, 'hello')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(source), 'remote')
    expect(seen).toEqual(['before true', 'after remote true', 'update remote'])
    expect(doc.getText('t').toString()).toBe('hello')
    const copy = new Y.Doc()
    for (const u of updates) Y.applyUpdate(copy, u)
    expect(copy.getText('t').toString()).toBe('hello')
  })

  it('calls the listeners present when the event fires, as lib0 does', () => {
    const doc = new RoomDoc()
    const calls: string[] = []
    const late = (): number => calls.push('late')
    const second = (): number => calls.push('second')
    const first = (): void => {
      calls.push('first')
      doc.off('afterTransaction', second)
      doc.on('afterTransaction', late)
    }
    doc.on('afterTransaction', first)
    doc.on('afterTransaction', second)
    doc.transact(() => doc.getMap('m').set('k', 1))
    // `second` was removed during the round but is still called in it; `late` only from the next.
    expect(calls).toEqual(['first', 'second'])
    calls.length = 0
    doc.off('afterTransaction', first)
    doc.transact(() => doc.getMap('m').set('k', 2))
    expect(calls).toEqual(['late'])
  })

  it('a lone listener that replaces itself is not called twice in one round; once() fires once', () => {
    const doc = new RoomDoc()
    const calls: string[] = []
    const next = (): number => calls.push('next')
    const lone = (): void => {
      calls.push('lone')
      doc.off('afterTransaction', lone)
      doc.on('afterTransaction', next)
    }
    doc.on('afterTransaction', lone)
    let onces = 0
    doc.once('afterTransactionCleanup', () => onces++)
    doc.transact(() => doc.getArray('a').push([1]))
    doc.transact(() => doc.getArray('a').push([2]))
    expect(calls).toEqual(['lone', 'next'])
    expect(onces).toBe(1)
  })

  it('emits nothing and throws nothing for events nobody listens to', () => {
    const doc = new RoomDoc()
    expect(() => doc.emit('afterAllTransactions', [doc, []])).not.toThrow()
    doc.getText('t').insert(0, 'x')
    expect(doc.getText('t').toString()).toBe('x')
  })
})

describe('RoomAwareness', () => {
  it('delivers change and update events with their arguments, as Awareness does', () => {
    const awareness = new RoomAwareness(new Y.Doc())
    awareness.setLocalState(null)
    const events: string[] = []
    awareness.on('change', (c: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) =>
      events.push(`change +${c.added.join()} ~${c.updated.join()} -${c.removed.join()} ${String(origin)}`))
    awareness.on('update', (c: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) =>
      events.push(`update +${c.added.join()} ~${c.updated.join()} -${c.removed.join()} ${String(origin)}`))
    const peerDoc = new Y.Doc()
    peerDoc.clientID = 42
    const peer = new Awareness(peerDoc)
    peer.setLocalState({ cursor: 1 })
    applyAwarenessUpdate(awareness, encodeAwarenessUpdate(peer, [42]), 'remote')
    peer.setLocalState({ cursor: 2 })
    applyAwarenessUpdate(awareness, encodeAwarenessUpdate(peer, [42]), 'remote')
    removeAwarenessStates(awareness, [42], 'gone')
    expect(events).toEqual([
      'change +42 ~ - remote', 'update +42 ~ - remote',
      'change + ~42 - remote', 'update + ~42 - remote',
      'change + ~ -42 gone', 'update + ~ -42 gone',
    ])
    expect(awareness.getStates().has(42)).toBe(false)
    peer.destroy()
    awareness.destroy()
  })
})
