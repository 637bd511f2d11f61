/**
 * LevelDB storage on classic-level: an append-only log of updates per room, a persisted
 * state vector per room, and compaction.
 *
 * Layout (keys are UTF-8 strings, `\0`-separated — room names never hold control characters):
 * - `log\0<room>\0<seq>` → one Yjs update (`seq` = 16 hex digits, monotonic per room)
 * - `sv\0<room>` → the room's persisted state vector (written in the same batch as the
 *   updates it covers); the room list is the set of `sv` keys.
 *
 * Writes are group-committed: every append (and snapshot compaction) made in one turn of the
 * event loop, or while the previous write was in flight, goes into one atomic LevelDB batch,
 * written with `sync: true` under `durability: 'sync'` — one fsync per group.
 *
 * Compaction, two ways, both one atomic batch so a crash mid-compaction loses nothing:
 * - with a snapshot (the room's live doc as one update, covering every update appended so
 *   far — what the relay does): the snapshot is written under a fresh `seq` and every older
 *   entry is deleted. Nothing is read or replayed.
 * - without (`compact(room)`, or `compactAfter` entries): the log is read, merged in a worker
 *   (`checkedMerge`), and the merge replaces the entries it covers.
 * Appends made meanwhile (higher seqs) are kept either way.
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
  /**
   * Merge-compact a room (read, merge in a worker) once this many log entries piled up since
   * its last compaction. Default: never — the relay compacts from its live doc instead.
   */
  compactAfter?: number
  /**
   * `sync` (default): every write group is fsynced before its appends resolve, so a resolved
   * append survives a power cut or kernel crash. `process`: written to the OS without fsync —
   * survives a crash of the process, not of the machine.
   */
  durability?: Durability
  /**
   * LevelDB's memtable size in bytes (default 1 MiB, LevelDB's own is 4 MiB). The relay keeps
   * every loaded room in memory, so a big memtable only holds recent appends twice: 1 MiB held
   * about 4 MiB less peak RSS under bench:relay's 4-writer load at the same CPU.
   */
  writeBufferSize?: number
  /** LevelDB's block cache in bytes (default 2 MiB, LevelDB's own is 8 MiB): a room's log is read once, when it loads. */
  cacheSize?: number
}

/** What a resolved append survives: `sync` — power loss and OS crashes; `process` — a crash of the process only. */
export type Durability = 'sync' | 'process'

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

interface Counter {
  /** Next sequence number. */
  next: number
  /** Lowest sequence number that may still hold an entry. */
  first: number
  /** Entries since the last compaction (for `compactAfter`). */
  entries: number
}

interface Group {
  ops: Op[]
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>
}

/** A {@link StorageAdapter} on an embedded LevelDB directory. */
export class LevelDbStorage implements StorageAdapter {
  private readonly db: ClassicLevel<string, Uint8Array>
  private readonly compactor = new Compactor()
  private readonly compactAfter: number
  private readonly sync: boolean
  /** Sequence numbers per room, once known. */
  private readonly nextSeq = new Map<string, Promise<Counter>>()
  /** Writes waiting for the next group commit. */
  private group: Group | null = null
  private writing = false
  private readonly compactions = new Map<string, Promise<void>>()
  private readonly background = new Set<Promise<void>>()
  private closing = false

  private constructor(location: string, options: LevelDbOptions) {
    this.db = new ClassicLevel<string, Uint8Array>(location, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      writeBufferSize: options.writeBufferSize ?? 1024 * 1024,
      cacheSize: options.cacheSize ?? 2 * 1024 * 1024,
    })
    this.compactAfter = options.compactAfter ?? Infinity
    this.sync = (options.durability ?? 'sync') === 'sync'
  }

  /** Opens (creating if needed) the store at `location`. */
  static async open(location: string, options: LevelDbOptions = {}): Promise<LevelDbStorage> {
    const storage = new LevelDbStorage(location, options)
    await storage.db.open({ createIfMissing: true })
    return storage
  }

  private counter(room: string): Promise<Counter> {
    let counter = this.nextSeq.get(room)
    if (!counter) {
      counter = (async () => {
        let next = 0
        let first = -1
        let entries = 0
        for await (const key of this.db.keys({ gte: logPrefix(room), lt: logPrefix(room) + '\uffff' })) {
          next = parseInt(key.slice(logPrefix(room).length), 16) + 1
          if (first < 0) first = next - 1
          entries++
        }
        return { next, first: Math.max(first, 0), entries }
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

  /** Queues `ops` for the next group commit; resolves once the group is written (and synced). */
  private write(ops: Op[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.group) {
        this.group = { ops: [], waiters: [] }
        if (!this.writing) setImmediate(() => void this.commit())
      }
      for (const op of ops) this.group.ops.push(op)
      this.group.waiters.push({ resolve, reject })
    })
  }

  /** Writes the queued group as one atomic batch; a group queued meanwhile follows right after. */
  private async commit(): Promise<void> {
    const group = this.group
    this.group = null
    if (!group) return
    this.writing = true
    try {
      // A chained batch: the array form of `batch()` costs about 5x more CPU per operation
      // (abstract-level clones and re-encodes each one); measured in bench:relay.
      const batch = this.db.batch()
      try {
        for (const op of group.ops) {
          if (op.type === 'put') batch.put(op.key, op.value)
          else batch.del(op.key)
        }
      } catch (error) {
        await batch.close()
        throw error
      }
      await batch.write({ sync: this.sync })
      for (const w of group.waiters) w.resolve()
    } catch (error) {
      for (const w of group.waiters) w.reject(error)
    } finally {
      this.writing = false
      if (this.group) void this.commit()
    }
  }

  async append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    if (this.closing) throw new Error('storage is closing')
    // Awaited even when known: sequence numbers are taken in call order by appends and
    // snapshot compactions alike (a snapshot deletes every entry below its own).
    const counter = await this.counter(room)
    const ops: Op[] = updates.map((value) => ({ type: 'put', key: logPrefix(room) + seqString(counter.next++), value }))
    ops.push({ type: 'put', key: svKey(room), value: stateVector })
    await this.write(ops)
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

  compact(room: string, snapshot?: Uint8Array): Promise<void> {
    if (snapshot) {
      const job = this.replaceWith(room, snapshot)
      this.background.add(job)
      void job.catch(() => undefined).finally(() => this.background.delete(job))
      return job
    }
    const running = this.compactions.get(room)
    if (running) return running
    const job = this.runCompaction(room).finally(() => this.compactions.delete(room))
    this.compactions.set(room, job)
    return job
  }

  /** Writes `snapshot` under a fresh seq and deletes every older entry, in one batch. */
  private async replaceWith(room: string, snapshot: Uint8Array): Promise<void> {
    if (this.closing) throw new Error('storage is closing')
    const counter = await this.counter(room)
    const seq = counter.next++
    const ops: Op[] = []
    for (let s = counter.first; s < seq; s++) ops.push({ type: 'del', key: logPrefix(room) + seqString(s) })
    ops.push({ type: 'put', key: logPrefix(room) + seqString(seq), value: snapshot })
    const first = counter.first
    counter.first = seq
    try {
      await this.write(ops)
    } catch (error) {
      if (counter.first === seq) counter.first = first
      throw error
    }
    counter.entries = 0
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
    await this.write([
      ...keys.slice(0, -1).map((key) => ({ type: 'del' as const, key })),
      { type: 'put' as const, key: last, value: merged },
    ])
    const counter = await this.counter(room)
    counter.entries -= keys.length - 1
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.allSettled([...this.background, ...this.compactions.values()])
    while (this.group || this.writing) await new Promise((r) => setImmediate(r))
    await this.compactor.close()
    await this.db.close()
  }
}
