/**
 * What a room queues for storage must not pin memory it does not need: a small update that is
 * a view into a larger buffer is copied; a large update that fills its own buffer is kept as it
 * is; a forwarded update is stored as its part of the frame sent to the others.
 */
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import * as Y from 'yjs'
import { Room, type RoomClient } from '../../../relay/room/room.ts'
import { MemoryStorage } from '../../../relay/storage/memory.ts'
import { RelayMetrics } from '../../../relay/observability/metrics.ts'

/** A store that keeps exactly what it is handed (MemoryStorage copies). */
class Capture extends MemoryStorage {
  handed: Uint8Array[] = []
  override async append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    this.handed.push(...updates)
    return super.append(room, updates, stateVector)
  }
}

class Receiver implements RoomClient {
  readonly savedSubscribed = false
  readonly awarenessIds = new Set<number>()
  frames: Uint8Array[] = []
  send(frame: Uint8Array): void {
    this.frames.push(frame)
  }
}

function setup(): { room: Room; storage: Capture } {
  const storage = new Capture()
  const room = new Room('r', { storage, flushMs: 1_000_000, compactBytes: Infinity, logger: pino({ level: 'silent' }), metrics: new RelayMetrics(), hooks: { onUpdate() {}, onStored() {} } }, null)
  return { room, storage }
}

function update(chars: number): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'x'.repeat(chars))
  return Y.encodeStateAsUpdate(doc)
}

/** `bytes` placed in the middle of a larger buffer, as a message read from a socket is. */
function viewInside(bytes: Uint8Array, around: number): Uint8Array {
  const buffer = new Uint8Array(bytes.byteLength + around)
  buffer.set(bytes, around / 2)
  return buffer.subarray(around / 2, around / 2 + bytes.byteLength)
}

describe('what a room queues for storage', () => {
  it('a small update read into a larger buffer is copied, not kept as a view', async () => {
    const { room, storage } = setup()
    const u = viewInside(update(10), 64 * 1024)
    room.applyUpdate(u, null)
    await room.flush()
    expect(storage.handed[0]).toEqual(u)
    expect(storage.handed[0]!.buffer).not.toBe(u.buffer)
    expect(storage.handed[0]!.buffer.byteLength).toBe(u.byteLength)
  })

  it('a large update filling its own buffer is kept without a second copy', async () => {
    const { room, storage } = setup()
    const u = viewInside(update(200_000), 16)
    room.applyUpdate(u, null)
    await room.flush()
    expect(storage.handed[0]).toBe(u)
  })

  it('a forwarded update is stored as its part of the frame the others received', async () => {
    const { room, storage } = setup()
    const other = new Receiver()
    room.clients.add(other)
    const u = viewInside(update(10), 64 * 1024)
    room.applyUpdate(u, null)
    await room.flush()
    const frame = other.frames[0]!
    expect(storage.handed[0]).toEqual(u)
    expect(storage.handed[0]!.buffer).toBe(frame.buffer)
    expect(frame.buffer.byteLength).toBe(frame.byteLength)
  })
})
