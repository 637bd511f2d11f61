/**
 * LevelDB storage on classic-level: an append-only log of updates per room, a persisted
 * state vector per room, and background compaction with `Y.mergeUpdates` in a worker.
 *
 * Layout (keys are UTF-8 strings, `\0`-separated — room names never hold control characters):
 * - `log\0<room>\0<seq>` → one Yjs update (`seq` = 16 hex digits, monotonic per room)
 * - `sv\0<room>` → the room's persisted state vector (written in the same batch as the
 *   updates it covers); the room list is the set of `sv` keys.
 *
 * Compaction reads the log up to some `seq`, merges it in the worker, and in one atomic
 * batch deletes those entries and writes the merge under the highest compacted `seq`, so
 * appends made meanwhile (higher seqs) are kept and a crash mid-compaction loses nothing.
 *
 * @module
 */
import { ClassicLevel } from 'classic-level'
import type { StorageAdapter } from './types.ts'
import { Compactor } from './compactor.ts'

const SEP = '\u0000'
const logPrefix = (room: string): string => `log${SEP}${room}${SEP}`
const svKey = (room: string): string => `sv${SEP}${room}`
const seqString = (seq: number): string => seq.toString(16).padStart(16, '0')

/** classic-level hands out Buffers; callers get plain Uint8Arrays. */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** Options for {@link LevelDbStorage}. */
export interface LevelDbOptions {
  /** Compact a room once this many log entries piled up since its last compaction (default 64). */
  compactAfter?: number
}

/** A {@link StorageAdapter} on an embedded LevelDB directory. */
export class LevelDbStorage implements StorageAdapter {
  private readonly db: ClassicLevel<string, Uint8Array>
  private readonly compactor = new Compactor()
  private readonly compactAfter: number
  /** Next sequence number per room, once known. */
  private readonly nextSeq = new Map<string, Promise<{ next: number; entries: number }>>()
  private readonly compactions = new Map<string, Promise<void>>()
  private readonly background = new Set<Promise<void>>()
  private closing = false

  private constructor(location: string, options: LevelDbOptions) {
    this.db = new ClassicLevel<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.compactAfter = options.compactAfter ?? 64
  }

  /** Opens (creating if needed) the store at `location`. */
  static async open(location: string, options: LevelDbOptions = {}): Promise<LevelDbStorage> {
    const storage = new LevelDbStorage(location, options)
    await storage.db.open({ createIfMissing: true })
    return storage
  }

  private counter(room: string): Promise<{ next: number; entries: number }> {
    let counter = this.nextSeq.get(room)
    if (!counter) {
      counter = (async () => {
        let next = 0
        let entries = 0
        for await (const key of this.db.keys({ gte: logPrefix(room), lt: logPrefix(room) + '\uffff' })) {
          next = parseInt(key.slice(logPrefix(room).length), 16) + 1
          entries++
        }
        return { next, entries }
      })()
      this.nextSeq.set(room, counter)
      counter.catch(() => this.nextSeq.delete(room))
    }
    return counter
  }

  async load(room: string): Promise<Uint8Array[]> {
    const updates: Uint8Array[] = []
    for await (const value of this.db.values({ gte: logPrefix(room), lt: logPrefix(room) + '\uffff' })) updates.push(plain(value))
    return updates
  }

  async append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    if (this.closing) throw new Error('storage is closing')
    const counter = await this.counter(room)
    const ops: Array<{ type: 'put'; key: string; value: Uint8Array }> = updates.map((value) => ({
      type: 'put',
      key: logPrefix(room) + seqString(counter.next++),
      value,
    }))
    ops.push({ type: 'put', key: svKey(room), value: stateVector })
    await this.db.batch(ops)
    counter.entries += updates.length
    if (counter.entries >= this.compactAfter && !this.compactions.has(room)) {
      const job = this.compact(room).catch(() => {
        // A refused or failed background compaction leaves the log as it was; try again
        // after another `compactAfter` appends rather than on every append.
        counter.entries = 0
      })
      this.background.add(job)
      void job.finally(() => this.background.delete(job))
    }
  }

  async getStateVector(room: string): Promise<Uint8Array | null> {
    const sv = await this.db.get(svKey(room))
    return sv === undefined ? null : plain(sv)
  }

  async listRooms(): Promise<string[]> {
    const rooms: string[] = []
    for await (const key of this.db.keys({ gte: `sv${SEP}`, lt: `sv${SEP}\uffff` })) rooms.push(key.slice(3))
    return rooms
  }

  compact(room: string): Promise<void> {
    const running = this.compactions.get(room)
    if (running) return running
    const job = this.runCompaction(room).finally(() => this.compactions.delete(room))
    this.compactions.set(room, job)
    return job
  }

  private async runCompaction(room: string): Promise<void> {
    const keys: string[] = []
    const values: Uint8Array[] = []
    for await (const [key, value] of this.db.iterator({ gte: logPrefix(room), lt: logPrefix(room) + '\uffff' })) {
      keys.push(key)
      values.push(plain(value))
    }
    if (keys.length < 2) return
    const merged = await this.compactor.merge(values)
    if (this.db.status !== 'open') return
    const last = keys[keys.length - 1] as string
    await this.db.batch([
      ...keys.slice(0, -1).map((key) => ({ type: 'del' as const, key })),
      { type: 'put' as const, key: last, value: merged },
    ])
    const counter = await this.counter(room)
    counter.entries -= keys.length - 1
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.allSettled([...this.background, ...this.compactions.values()])
    await this.compactor.close()
    await this.db.close()
  }
}
