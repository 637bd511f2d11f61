/** The campaign's checker can fail: a copy missing an acknowledged write, or holding an undone delete, is reported. */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { counter } from '../../../crdt/index.ts'
import { check, type CheckedWriter } from '../../../scripts/chaos/checker.ts'
import type { Op } from '../../../scripts/chaos/writer.ts'

function writer(name: string, kind: 'text' | 'crdt', doc: Y.Doc, ops: Op[], acked: number): CheckedWriter {
  return { name, kind, doc, ops, gone: false, acked, isAcked: (op: Op) => acked >= op.clock }
}

const clock = (doc: Y.Doc): number => Y.getState(doc.store, doc.clientID)

describe('checker', () => {
  it('passes equal copies holding every acknowledged write', () => {
    const text = new Y.Doc()
    const crdt = new Y.Doc()
    text.getText('t').insert(0, 'a.0\n')
    const insert: Op = { kind: 'insert', token: 'a.0', clock: clock(text) }
    counter(crdt, 'hits').increment(3)
    const inc: Op = { kind: 'increment', by: 3, clock: clock(crdt) }
    const copy = { where: 'x', text, crdt }
    const result = check([writer('a', 'text', text, [insert], clock(text)), writer('c', 'crdt', crdt, [inc], clock(crdt))], [copy, copy])
    expect(result.lost).toEqual([])
    expect(result.problems).toEqual([])
    expect(result.equal).toBe(true)
    expect(result.acked).toBe(2)
  })

  it('reports an acknowledged insert missing from a copy, an unequal copy and a short counter', () => {
    const text = new Y.Doc()
    const crdt = new Y.Doc()
    text.getText('t').insert(0, 'a.0\n')
    const insert: Op = { kind: 'insert', token: 'a.0', clock: clock(text) }
    counter(crdt, 'hits').increment(2)
    const inc: Op = { kind: 'increment', by: 2, clock: clock(crdt) }
    const empty = { where: 'stale', text: new Y.Doc(), crdt: new Y.Doc() }
    const result = check([writer('a', 'text', text, [insert], clock(text)), writer('c', 'crdt', crdt, [inc], clock(crdt))], [{ where: 'fresh', text, crdt }, empty])
    expect(result.equal).toBe(false)
    expect(result.lost.map((l) => `${l.where}: ${l.why}`)).toEqual([
      'stale: acknowledged insert missing',
      'stale: counter holds 0 of 2 acknowledged increments',
    ])
  })

  it('does not count an unacknowledged write as lost, but an undone acknowledged delete is', () => {
    const text = new Y.Doc()
    text.getText('t').insert(0, 'a.0\n')
    const insert: Op = { kind: 'insert', token: 'a.0', clock: clock(text) }
    const del: Op = { kind: 'delete', token: 'a.0', clock: clock(text) + 1 }
    const copy = { where: 'x', text, crdt: new Y.Doc() }
    const unacked = check([writer('a', 'text', text, [insert, del], insert.clock)], [copy])
    expect(unacked.lost).toEqual([])
    const acked = check([writer('a', 'text', text, [insert, del], del.clock)], [copy])
    expect(acked.lost.map((l) => l.why)).toEqual(['acknowledged delete undone'])
  })

  it('an acknowledged delete-only operation (covered by the stored delete set) that is undone is lost', () => {
    const text = new Y.Doc()
    text.getText('t').insert(0, 'a.0\n')
    const insert: Op = { kind: 'insert', token: 'a.0', clock: clock(text) }
    const del: Op = { kind: 'delete-only', token: 'a.0', clock: clock(text) } // moves no clock
    const copy = { where: 'x', text, crdt: new Y.Doc() }
    const pending = { ...writer('a', 'text', text, [insert, del], insert.clock), isAcked: (op: Op) => op !== del }
    expect(check([pending], [copy]).lost).toEqual([])
    const acked = { ...pending, isAcked: () => true }
    expect(check([acked], [copy]).lost.map((l) => l.why)).toEqual(['acknowledged delete undone'])
  })
})
