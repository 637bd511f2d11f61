import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { roomsToSend } from '../../../relay/topology/catch-up.ts'
import { LagTracker } from '../../../relay/topology/replication-lag.ts'
import { DIGEST_FLAG_FORCE } from '../../../relay/topology/peer-protocol.ts'

function docWith(clientID: number, text: string): Y.Doc {
  const d = new Y.Doc()
  d.clientID = clientID
  d.getText('t').insert(0, text)
  return d
}

describe('catch-up by digest', () => {
  it('sends only rooms the other side lacks, skips equal ones, honours force', () => {
    const a = docWith(1, 'abc')
    const b = docWith(2, 'x')
    const sa = Y.encodeStateVector(a)
    const both = new Y.Doc()
    Y.applyUpdate(both, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(both, Y.encodeStateAsUpdate(b))
    const sboth = Y.encodeStateVector(both)
    const mine = [
      { room: 'equal', stateVector: sa, flags: 0 },
      { room: 'ahead', stateVector: sboth, flags: 0 },
      { room: 'behind', stateVector: sa, flags: 0 },
      { room: 'only-mine', stateVector: sa, flags: 0 },
      { room: 'forced', stateVector: sa, flags: 0 },
    ]
    const theirs = [
      { room: 'equal', stateVector: sa, flags: 0 },
      { room: 'ahead', stateVector: sa, flags: 0 },
      { room: 'behind', stateVector: sboth, flags: 0 },
      { room: 'only-theirs', stateVector: sa, flags: 0 },
      { room: 'forced', stateVector: sa, flags: DIGEST_FLAG_FORCE },
    ]
    expect(roomsToSend(mine, theirs).map((s) => s.room).sort()).toEqual(['ahead', 'forced', 'only-mine'])
    // Concurrent: each side sends the other its part.
    const sb = Y.encodeStateVector(b)
    expect(roomsToSend([{ room: 'r', stateVector: sa, flags: 0 }], [{ room: 'r', stateVector: sb, flags: 0 }])).toHaveLength(1)
    expect(roomsToSend([{ room: 'r', stateVector: sb, flags: 0 }], [{ room: 'r', stateVector: sa, flags: 0 }])).toHaveLength(1)
  })
})

describe('replication lag', () => {
  it('counts updates until a persisted state vector covers them, with the oldest age', () => {
    const d = new Y.Doc()
    d.clientID = 7
    const updates: Uint8Array[] = []
    d.on('update', (u: Uint8Array) => updates.push(u))
    d.getText('t').insert(0, 'a')
    const after1 = Y.encodeStateVector(d)
    d.getText('t').insert(1, 'b')
    const lag = new LagTracker()
    lag.sent('r', updates[0]!, 1000)
    lag.sent('r', updates[1]!, 1500)
    expect(lag.unacked).toBe(2)
    expect(lag.oldestAgeMs(2000)).toBe(1000)
    lag.acked('other', Y.encodeStateVector(d))
    expect(lag.unacked).toBe(2)
    lag.acked('r', after1)
    expect(lag.unacked).toBe(1)
    expect(lag.oldestAgeMs(2000)).toBe(500)
    lag.acked('r', Y.encodeStateVector(d))
    expect(lag.unacked).toBe(0)
    expect(lag.oldestAgeMs(2000)).toBe(0)
  })
})
