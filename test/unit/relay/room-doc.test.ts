/**
 * `RoomDoc` replaces lib0's `emit`: events must reach exactly the listeners lib0 would call,
 * with the same arguments, and the doc must behave as a `Y.Doc` for Yjs itself.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RoomDoc } from '../../../relay/room-doc.ts'

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
