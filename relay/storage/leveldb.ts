/**
 * LevelDB storage on classic-level: an append-only log of updates per room, a persisted
 * state vector per room, and compaction.
 *
 * Layout (keys are UTF-8 strings, `\0`-separated — room names never hold control characters):
 * - `log\0<room>\0<seq>` → one Yjs update (`seq` = 16 hex digits, monotonic per room)
 * - `sv\0<room>` → the room's persisted state vector; the room list is the set of `sv` keys.
 * - `dirty\0<room>` → empty: the room's `sv` may lag its log.
 *
 * The state vector is written back lazily, not with every append: a room's first append (since
 * it was last clean) writes its vector and its `dirty` mark in the same batch as its updates;
 * later appends keep their vector in memory, where {@link LevelDbStorage.getStateVector} reads
 * it, and a write-back every `stateVectorWriteBackMs` stores the newest one (and clears the mark
 * of a room with no append since the last write-back). A snapshot compaction marks the room too,
 * until an append made after it is written. Closing writes every vector and clears every mark
 * (but a snapshot's). After a crash, opening the store recomputes the vector of every marked room from
 * its log. So the vector read is always current, and a busy room costs one vector write per
 * write-back instead of one per append (`npm run bench:relay:store`: 0.85× the CPU per append).
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
import * as Y from 'yjs'
import type { StorageAdapter } from './types.ts'
import { Compactor } from './compactor.ts'
import { replay } from './checked-merge.ts'

const SEP = '\u0000'
const logPrefix = (room: string): string => `log${SEP}${room}${SEP}`
const svKey = (room: string): string => `sv${SEP}${room}`
const DIRTY = `dirty${SEP}`
const dirtyKey = (room: string): string => DIRTY + room
const EMPTY = new Uint8Array(0)
const seqString = (seq: number): string => seq.toString(16).padStart(16, '0')
/**
 * The key range of every key starting with `prefix` (which ends with SEP). Bounded by the prefix
 * with its SEP raised to \u0001, not by appending '\uffff': keys compare as UTF-8 bytes, and a
 * room name may start with a character above U+FFFF (UTF-8 F0…, above \uffff's EF BF BF).
 */
const under = (prefix: string): { gte: string; lt: string } => ({ gte: prefix, lt: `${prefix.slice(0, -1)}\u0001` })

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
  /**
   * How often the newest state vector of every room appended to is written back (default
   * 1000 ms). Between write-backs it is held in memory; a crash costs a replay of the logs of
   * the rooms written to since, when the store next opens. 0: every append writes its vector
   * (what the store did before; `bench:relay:store`'s baseline).
   */
  stateVectorWriteBackMs?: number
}

/** What a resolved append survives: `sync` — power loss and OS crashes; `process` — a crash of the process only. */
export type Durability = 'sync' | 'process'

interface Counter {
  /** Next sequence number. */
  next: number
  /** Lowest sequence number that may still hold an entry. */
  first: number
  /** Entries since the last compaction (for `compactAfter`). */
  entries: number
}

/**
 * A room's sequence numbers. Appends and snapshot compactions take theirs in call order: a
 * snapshot deletes every entry below its own, so an append must never take a number after a
 * snapshot asked for before it. Once the counter is loaded and nobody still waits for the load,
 * numbers are taken at once; until then every caller waits for the load, and the waiters take
 * theirs in the order they came.
 */
interface RoomSeq {
  /** `log\0<room>\0`, the prefix of every log key of the room. */
  readonly prefix: string
  readonly svKey: string
  readonly dirtyKey: string
  loading: Promise<Counter>
  counter: Counter | null
  /** Callers waiting for `loading` that have not taken their numbers yet. */
  waiting: number
  /** Whether the room's `dirty` mark is written, or queued in a group. */
  marked: boolean
  /** Appends queued or being written. */
  appending: number
  /** The state vector of the room's newest written append, when `sv` on disk may not hold it yet. */
  latestSv: Uint8Array | null
  /** The vector a write-back in flight puts. */
  writingSv: Uint8Array | null
  /**
   * A snapshot compaction wrote the live doc, which may hold updates not appended yet: the log may
   * be ahead of every vector known here until an append queued after it is written. The room
   * stays marked meanwhile (a crash then recomputes its vector).
   */
  snapshotAhead: boolean
}

/**
 * One group commit: keys and values in order (a null value deletes the key), and one promise
 * for every write in it (a LevelDB batch is written whole or not at all).
 */
interface Group {
  keys: string[]
  values: Array<Uint8Array | null>
  /**
   * Per append in the group: its room and, when its vector is not written in this group, the
   * vector (it becomes the room's `latestSv` once written). Per write-back: the room and vector.
   */
  appended: RoomSeq[]
  appendedSv: Array<Uint8Array | null>
  wroteBack: RoomSeq[]
  wroteBackSv: Uint8Array[]
  /** Rooms whose `dirty` mark this group writes. */
  marks: RoomSeq[]
  /** Rooms with an append queued after their last snapshot compaction (see `snapshotAhead`). */
  covers: RoomSeq[]
  done: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

/** A {@link StorageAdapter} on an embedded LevelDB directory. */
export class LevelDbStorage implements StorageAdapter {
  private readonly db: ClassicLevel<string, Uint8Array>
  private readonly compactor = new Compactor()
  private readonly compactAfter: number
  private readonly sync: boolean
  /** Sequence numbers per room, once asked for. */
  private readonly seqs = new Map<string, RoomSeq>()
  /** Writes waiting for the next group commit. */
  private group: Group | null = null
  private writing = false
  private readonly compactions = new Map<string, Promise<void>>()
  private readonly background = new Set<Promise<void>>()
  private closing = false
  /** Rooms with a `dirty` mark (written or queued). */
  private readonly marked = new Set<RoomSeq>()
  private readonly writeBackMs: number
  private writeBackTimer: NodeJS.Timeout | null = null

  private constructor(location: string, options: LevelDbOptions) {
    const writeBackMs = options.stateVectorWriteBackMs ?? 1000
    if (!Number.isFinite(writeBackMs) || writeBackMs < 0) {
      throw new RangeError(`stateVectorWriteBackMs must be a finite number of ms, 0 or more (got ${writeBackMs})`)
    }
    this.writeBackMs = writeBackMs
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
    await storage.recover()
    return storage
  }

  /**
   * After a crash: recomputes the state vector of every room still marked dirty from its log,
   * and writes it with the mark cleared. A log that cannot be replayed keeps its mark (its
   * room is refused when it loads, as before).
   */
  private async recover(): Promise<void> {
    const rooms: string[] = []
    for await (const key of this.db.keys(under(DIRTY))) rooms.push(key.slice(DIRTY.length))
    if (rooms.length === 0) return
    // One batch (one fsync) for every recovered room.
    const batch = this.db.batch()
    for (const room of rooms) {
      let sv: Uint8Array
      try {
        const doc = replay(await this.load(room))
        sv = Y.encodeStateVector(doc)
        doc.destroy()
      } catch {
        continue
      }
      batch.put(svKey(room), sv).del(dirtyKey(room))
    }
    await batch.write({ sync: this.sync })
  }

  private seq(room: string): RoomSeq {
    let seq = this.seqs.get(room)
    if (!seq) {
      const prefix = logPrefix(room)
      const loading = (async () => {
        let next = 0
        let first = -1
        let entries = 0
        for await (const key of this.db.keys(under(prefix))) {
          next = parseInt(key.slice(prefix.length), 16) + 1
          if (first < 0) first = next - 1
          entries++
        }
        return { next, first: Math.max(first, 0), entries }
      })()
      const created: RoomSeq = {
        prefix, svKey: svKey(room), dirtyKey: dirtyKey(room), loading, counter: null, waiting: 0,
        marked: false, appending: 0, latestSv: null, writingSv: null, snapshotAhead: false,
      }
      seq = created
      this.seqs.set(room, created)
      loading.then(
        (counter) => { created.counter = counter },
        () => { if (this.seqs.get(room) === created) this.seqs.delete(room) },
      )
    }
    return seq
  }

  /**
   * Runs `take` with the room's counter: at once when it is loaded and nobody waits for it,
   * else after the load, behind the callers that came first.
   */
  private withCounter<T>(seq: RoomSeq, take: (counter: Counter) => T): T | Promise<Awaited<T>> {
    const counter = this.ready(seq)
    return counter ? take(counter) : this.afterLoad(seq, take)
  }

  /** The room's counter when numbers can be taken at once (loaded, and nobody waits for the load). */
  private ready(seq: RoomSeq): Counter | null {
    return seq.waiting === 0 ? seq.counter : null
  }

  private async afterLoad<T>(seq: RoomSeq, take: (counter: Counter) => T): Promise<Awaited<T>> {
    seq.waiting++
    let counter: Counter
    try {
      counter = await seq.loading
    } finally {
      seq.waiting--
    }
    // Taken in the same turn as the wait ends: nobody can take numbers in between.
    return await take(counter)
  }

  async load(room: string): Promise<Uint8Array[]> {
    const updates: Uint8Array[] = []
    for await (const value of this.db.values(under(logPrefix(room)))) updates.push(plain(value))
    return updates
  }

  /** The group the next commit writes (opened, and its commit scheduled, if none is). */
  private openGroup(): Group {
    if (this.group) return this.group
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const done = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    // Every write of a group is awaited by its caller; a group nobody awaits must not be an
    // unhandled rejection.
    done.catch(() => undefined)
    const group: Group = { keys: [], values: [], appended: [], appendedSv: [], wroteBack: [], wroteBackSv: [], marks: [], covers: [], done, resolve, reject }
    this.group = group
    if (!this.writing) setImmediate(() => void this.commit())
    return group
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
        const { keys, values } = group
        for (let i = 0; i < keys.length; i++) {
          const value = values[i]
          if (value) batch.put(keys[i]!, value)
          else batch.del(keys[i]!)
        }
      } catch (error) {
        await batch.close()
        throw error
      }
      await batch.write({ sync: this.sync })
      this.written(group)
      group.resolve()
    } catch (error) {
      this.failed(group)
      group.reject(error)
    } finally {
      this.writing = false
      if (this.group) void this.commit()
    }
  }

  append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new Error('storage is closing'))
    const seq = this.seq(room)
    // Not through withCounter: no closure on the path every flush takes.
    const counter = this.ready(seq)
    const written = counter
      ? this.queueAppend(seq, counter, updates, stateVector)
      : this.afterLoad(seq, (loaded) => this.queueAppend(seq, loaded, updates, stateVector))
    if (this.compactAfter === Infinity) return written
    return written.then(() => this.counted(room, seq, updates.length))
  }

  /**
   * Puts `updates` under the room's next sequence numbers in the next group. The room's first
   * append since it was clean puts its state vector and `dirty` mark with them; later ones leave
   * the vector to the write-back.
   */
  private queueAppend(seq: RoomSeq, counter: Counter, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    const group = this.openGroup()
    for (const value of updates) {
      group.keys.push(seq.prefix + seqString(counter.next++))
      group.values.push(value)
    }
    seq.appending++
    group.appended.push(seq)
    if (seq.snapshotAhead) group.covers.push(seq)
    if (this.writeBackMs === 0 || !seq.marked) {
      group.keys.push(seq.svKey)
      group.values.push(stateVector)
      group.appendedSv.push(null)
      if (this.writeBackMs !== 0) this.mark(seq, group)
    } else {
      group.appendedSv.push(stateVector)
      this.scheduleWriteBack()
    }
    return group.done
  }

  /** Puts the room's `dirty` mark in `group`. */
  private mark(seq: RoomSeq, group: Group): void {
    group.keys.push(seq.dirtyKey)
    group.values.push(EMPTY)
    group.marks.push(seq)
    seq.marked = true
    this.marked.add(seq)
    this.scheduleWriteBack()
  }

  /** A group was written: its appends' vectors become their rooms' newest, its write-backs are on disk. */
  private written(group: Group): void {
    const { appended, appendedSv, wroteBack, wroteBackSv } = group
    for (let i = 0; i < appended.length; i++) {
      const seq = appended[i]!
      seq.appending--
      const sv = appendedSv[i]
      // null: the vector went to disk with this append, so nothing older held in memory is newest.
      seq.latestSv = sv ?? null
    }
    for (let i = 0; i < wroteBack.length; i++) {
      const seq = wroteBack[i]!
      if (seq.latestSv === wroteBackSv[i]) seq.latestSv = null
      if (seq.writingSv === wroteBackSv[i]) seq.writingSv = null
    }
    for (const seq of group.covers) seq.snapshotAhead = false
  }

  /**
   * A group failed whole: its marks are not on disk, nor the vectors written with them, nor its
   * write-backs. A room with appends in the next group gets its mark, and the vector of its last
   * append there, written in that group (as its first append since clean would have: it must be
   * listed, and not written unmarked); any other room is unmarked, and its next append marks it.
   */
  private failed(group: Group): void {
    for (const seq of group.appended) seq.appending--
    const next = this.group
    for (const seq of group.marks) {
      const last = next && seq.appending > 0 ? next.appended.lastIndexOf(seq) : -1
      if (next && last >= 0) {
        const sv = next.appendedSv[last]
        if (sv) {
          next.keys.push(seq.svKey)
          next.values.push(sv)
          next.appendedSv[last] = null
        }
        next.keys.push(seq.dirtyKey)
        next.values.push(EMPTY)
        next.marks.push(seq)
      } else {
        seq.marked = false
        this.marked.delete(seq)
      }
    }
    for (const seq of group.wroteBack) seq.writingSv = null
  }

  private scheduleWriteBack(): void {
    if (this.writeBackTimer || this.closing) return
    this.writeBackTimer = setTimeout(() => {
      this.writeBackTimer = null
      void this.writeBack().catch(() => undefined)
    }, this.writeBackMs)
    this.writeBackTimer.unref()
  }

  /**
   * Writes the newest state vector of every marked room that has one in memory, and clears the
   * mark of every room whose vector on disk is current and that has no append in flight (a room
   * quiet since the last write-back). Resolves once written, at once when there is nothing to
   * write (no empty group, no fsync). Schedules the next one while a room still needs one; a
   * room's next lazy append schedules it otherwise. The timer calls it; so can a test.
   */
  writeBack(all = false): Promise<void> {
    let group: Group | null = null
    let again = false
    for (const seq of this.marked) {
      const sv = seq.latestSv
      if (sv !== null && sv !== seq.writingSv) {
        seq.writingSv = sv
        group ??= this.openGroup()
        group.keys.push(seq.svKey)
        group.values.push(sv)
        group.wroteBack.push(seq)
        group.wroteBackSv.push(sv)
        if (!all) {
          again = true
          continue
        }
      } else if (sv !== null || seq.appending > 0 || seq.writingSv !== null) {
        again = true
        continue
      }
      // Kept, even at close: the next open recomputes the vector (cheap, a snapshot's log is short).
      if (seq.snapshotAhead) continue
      group ??= this.openGroup()
      group.keys.push(seq.dirtyKey)
      group.values.push(null)
      seq.marked = false
      this.marked.delete(seq)
    }
    if (again) this.scheduleWriteBack()
    return group ? group.done : Promise.resolve()
  }

  /** After an append of `n` entries: a merge compaction once `compactAfter` piled up. */
  private counted(room: string, seq: RoomSeq, n: number): void {
    const counter = seq.counter
    if (!counter) return
    counter.entries += n
    if (counter.entries < this.compactAfter || this.compactions.has(room)) return
    const job = this.compact(room).catch(() => {
      // A refused or failed background compaction leaves the log as it was; try again
      // after another `compactAfter` appends rather than on every append.
      counter.entries = 0
    })
    this.background.add(job)
    void job.finally(() => this.background.delete(job))
  }

  async getStateVector(room: string): Promise<Uint8Array | null> {
    const latest = this.seqs.get(room)?.latestSv
    if (latest) return latest
    const sv = await this.db.get(svKey(room))
    return sv === undefined ? null : plain(sv)
  }

  async listRooms(): Promise<string[]> {
    const rooms: string[] = []
    for await (const key of this.db.keys(under(`sv${SEP}`))) rooms.push(key.slice(3))
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
  private replaceWith(room: string, snapshot: Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(new Error('storage is closing'))
    const seq = this.seq(room)
    return Promise.resolve(this.withCounter(seq, (counter) => {
      const own = counter.next++
      const first = counter.first
      counter.first = own
      const group = this.openGroup()
      for (let s = first; s < own; s++) {
        group.keys.push(seq.prefix + seqString(s))
        group.values.push(null)
      }
      group.keys.push(seq.prefix + seqString(own))
      group.values.push(snapshot)
      seq.snapshotAhead = true
      if (!seq.marked) this.mark(seq, group)
      return group.done.then(
        () => {
          counter.entries = 0
        },
        (error: unknown) => {
          if (counter.first === own) counter.first = first
          throw error
        },
      )
    }))
  }

  private async runCompaction(room: string): Promise<void> {
    const prefix = logPrefix(room)
    const keys: string[] = []
    const values: Uint8Array[] = []
    for await (const [key, value] of this.db.iterator(under(prefix))) {
      keys.push(key)
      values.push(plain(value))
    }
    if (keys.length < 2) return
    const merged = await this.compactor.merge(values)
    if (this.db.status !== 'open') return
    const group = this.openGroup()
    for (let i = 0; i < keys.length - 1; i++) {
      group.keys.push(keys[i]!)
      group.values.push(null)
    }
    group.keys.push(keys[keys.length - 1]!)
    group.values.push(merged)
    await group.done
    const counter = await this.withCounter(this.seq(room), (c) => c)
    counter.entries -= keys.length - 1
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.allSettled([...this.background, ...this.compactions.values()])
    while (this.group || this.writing) await new Promise((r) => setImmediate(r))
    if (this.writeBackTimer) clearTimeout(this.writeBackTimer)
    this.writeBackTimer = null
    try {
      // Every append is written: each room's newest vector goes to disk and its mark is cleared.
      await this.writeBack(true)
    } finally {
      await this.compactor.close()
      await this.db.close()
    }
  }
}
