/**
 * In-memory storage: for tests and `--storage memory`. Nothing survives the process.
 *
 * @module
 */
import { checkedMerge } from './checked-merge.ts'
import type { StorageAdapter } from './types.ts'

interface MemoryRoom {
  log: Uint8Array[]
  stateVector: Uint8Array
}

/** A {@link StorageAdapter} holding everything in a Map. */
export class MemoryStorage implements StorageAdapter {
  private readonly rooms = new Map<string, MemoryRoom>()
  private closed = false

  private check(): void {
    if (this.closed) throw new Error('storage is closed')
  }

  async load(room: string): Promise<Uint8Array[]> {
    this.check()
    return [...(this.rooms.get(room)?.log ?? [])]
  }

  async append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    this.check()
    const entry = this.rooms.get(room) ?? { log: [], stateVector }
    entry.log.push(...updates.map((u) => u.slice()))
    entry.stateVector = stateVector.slice()
    this.rooms.set(room, entry)
  }

  async getStateVector(room: string): Promise<Uint8Array | null> {
    this.check()
    return this.rooms.get(room)?.stateVector.slice() ?? null
  }

  async listRooms(): Promise<string[]> {
    this.check()
    return [...this.rooms.keys()]
  }

  async compact(room: string, snapshot?: Uint8Array): Promise<void> {
    this.check()
    const entry = this.rooms.get(room)
    if (!entry) return
    if (snapshot) entry.log = [snapshot.slice()]
    else if (entry.log.length >= 2) entry.log = [checkedMerge(entry.log)]
  }

  async close(): Promise<void> {
    this.closed = true
  }
}
