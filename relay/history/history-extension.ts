/**
 * The history extension: versions recorded as rooms go quiet, named versions, restores,
 * retention. Built into every relay by `createRelay` (server/), which it never imports: it
 * implements the extension seam structurally (the room hooks, `onStart`, `onStop`, `routes`).
 *
 * Each room's history work runs in order on one queue: taking a version (synchronously, from
 * the room's live doc, so nothing can change midway), waiting until the room's own log holds
 * everything that version shows (`room.flush()`), then writing it with its head in one atomic
 * batch — so the history is never ahead of the document — and then retention.
 *
 * @module
 */
import * as Y from 'yjs'
import type { Logger } from 'pino'
import type { Room } from '../room/room.ts'
import type { RoomManager } from '../room/rooms.ts'
import { authorOf, httpOrigin, type Author } from '../room/author.ts'
import type { RouteModule } from '../http/http-api.ts'
import { enqueueVersionCreated } from '../integrations/index.ts'
import { ChangeAuthors, type Attribution, type VersionAuthor } from './authors.ts'
import { capture, type Capture, type Head } from './capture.ts'
import type { DeletedRanges } from '../wire/protocol.ts'
import { LevelKv, MemoryKv } from './history-kv.ts'
import { HistoryStore, putHead, putPending, putVersion, type StoredHead, type VersionMeta } from './history-store.ts'
import { decodeMark, MarkError, markWins, metaOfMark, type MarkKey, type MarkSource, type VersionMark, type VersionMarkSurface } from './version-marks.ts'
import { MarkBook } from './mark-book.ts'
import { validateRoomName } from '../room/room-name.ts'
import { chainStart } from './rebuild.ts'
import { toRemove, type Retention, type Stored } from './retention.ts'
import type { DiffResult } from './diff.ts'
import { HistoryCompute } from './history-compute.ts'
import { historyRoutes, type HistoryApi } from './history-routes.ts'
import { publicVersion } from './public-version.ts'

/** Options of {@link historyExtension}. */
export interface HistoryOptions {
  /** LevelDB directory of the history (`<data>/history`); undefined: in memory. */
  dir?: string
  /** fsync every history batch (the relay's `--durability sync`). */
  sync?: boolean
  /** A version is recorded once a room had no update for this long (`--history-quiet-ms`). */
  quietMs: number
  /** … and at the latest this long after the first change not in a version (default 10 × quietMs). */
  maxWaitMs?: number
  /** Retention (`--history-keep`, `--history-max`). */
  retention: Retention
  /** An open relay: an update without a verified author is attributed to the name its connection announced (unverified). */
  openNames: () => boolean
  /** Largest version mark shared with or accepted from the cluster, state included (`--max-message-bytes`). */
  maxMarkBytes?: number
}

/** What the extension needs from the relay at start (a subset of the relay's context). */
export interface HistoryContext {
  rooms: RoomManager
  logger: Logger
  /** The relay's id (`--id`): the author of the version marks it makes (read when one is made: it may be set after start). */
  config?: { id: string }
}

/** Largest mark by default (16 MiB, the peer links' frame limit). */
const DEFAULT_MAX_MARK_BYTES = 16 * 1024 * 1024

const validRoom = (room: string): boolean => {
  try {
    validateRoomName(room)
    return true
  } catch {
    return false
  }
}

/** A checkpoint (the whole state) is stored once the deltas since the last one outgrow it this many times. */
const CHECKPOINT_RATIO = 8
/** … and at least this many bytes of deltas. */
const CHECKPOINT_FLOOR = 64 * 1024
/** Rooms not loaded are checked for versions past `--history-keep` this often. */
const SWEEP_MS = 60 * 60 * 1000

/** A version waiting to be written. */
interface Taken {
  meta: VersionMeta
  ops: ReturnType<typeof putVersion>
}

/** One room's history state. */
interface RoomState {
  readonly name: string
  /** The loaded room, while it is. */
  room: Room | null
  /** The doc whose transactions are attributed (the room's, until a rebuild replaces it). */
  doc: Y.Doc | null
  listener: ((tr: Y.Transaction) => void) | null
  readonly changes: ChangeAuthors
  /** Changes not in a version yet. */
  dirty: boolean
  firstChangeAt: number
  lastChangeAt: number
  timer: NodeJS.Timeout | null
  /** Head and versions as stored (and as taken, while a write is on the queue); null: read them first. */
  loaded: Loaded | null
  queue: Promise<unknown>
  tasks: number
}

/** A room's head and versions in memory. */
interface Loaded {
  head: StoredHead | null
  /** The head's delete set, once rebuilt (or taken). */
  headDs: DeletedRanges | null
  versions: VersionMeta[]
}

/** Version options of {@link History.take}. */
interface TakeOptions {
  kind: VersionMeta['kind']
  name?: string
  namedBy?: VersionAuthor
  restoredFrom?: string
}

const verified = (author: Author | null | undefined): VersionAuthor | undefined =>
  author ? { id: author.id, ...(author.name !== undefined ? { name: author.name } : {}), verified: true } : undefined

/** The history of every room of one relay. */
export class History implements HistoryApi, VersionMarkSurface {
  readonly name = 'history'
  /** The HTTP API (relay/history/history-routes.ts). */
  readonly routes: RouteModule
  private readonly options: HistoryOptions
  private readonly states = new Map<string, RoomState>()
  private store: HistoryStore | null = null
  private ctx: HistoryContext | null = null
  private stopped = false
  private sweep: NodeJS.Timeout | null = null
  /** Where document-sized work runs (a worker thread). */
  private readonly compute = new HistoryCompute()
  /** What the cluster shares about versions (version-marks.ts), once started. */
  private book: MarkBook | null = null

  constructor(options: HistoryOptions) {
    this.options = options
    this.routes = historyRoutes(this)
  }

  /** Whether the store is open (routes answer 503 before). */
  get started(): boolean {
    return this.store !== null && !this.stopped
  }

  /** Pins `room` (kept loaded while a restore or a named version works on it). */
  pin(room: Room): void {
    this.ctx?.rooms.pin(room)
  }

  unpin(room: Room): void {
    this.ctx?.rooms.unpin(room)
  }

  async onStart(ctx: HistoryContext): Promise<void> {
    this.ctx = ctx
    this.store = new HistoryStore(this.options.dir === undefined ? new MemoryKv() : await LevelKv.open(this.options.dir, this.options.sync ?? true))
    this.book = await MarkBook.open(this.store.kv, this.options.maxMarkBytes ?? DEFAULT_MAX_MARK_BYTES, ctx.logger)
    this.sweep = setInterval(() => this.sweepRetention(), SWEEP_MS)
    this.sweep.unref()
  }

  /**
   * Waits for the history work under way and closes the store. Changes not yet in a version are
   * not recorded now (the relay is stopping): the room's next load finds them (its state vector
   * is ahead of the head) and records them when it goes quiet; their authors are in the pending record.
   */
  async onStop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.sweep) clearInterval(this.sweep)
    for (const state of this.states.values()) {
      if (state.timer) clearTimeout(state.timer)
      state.timer = null
    }
    await Promise.all([...this.states.values()].map((s) => s.queue.catch(() => undefined)))
    await this.compute.close()
    await this.store?.close()
  }

  private stateOf(name: string): RoomState {
    let state = this.states.get(name)
    if (!state) {
      state = { name, room: null, doc: null, listener: null, changes: new ChangeAuthors(), dirty: false, firstChangeAt: 0, lastChangeAt: 0, timer: null, loaded: null, queue: Promise.resolve(), tasks: 0 }
      this.states.set(name, state)
    }
    return state
  }

  /** Runs `task` after the room's earlier history work; the state is dropped once idle and unloaded. */
  private enqueue<T>(state: RoomState, task: () => Promise<T>): Promise<T> {
    state.tasks++
    const run = state.queue.then(task, task)
    state.queue = run.then(
      () => this.settle(state),
      () => this.settle(state),
    )
    return run
  }

  private settle(state: RoomState): void {
    state.tasks--
    if (state.tasks === 0 && state.room === null && !state.dirty && this.states.get(state.name) === state) this.states.delete(state.name)
  }

  /** Reads the head and the versions (and the authors not yet in a version) once. */
  private async ensureLoaded(state: RoomState): Promise<Loaded> {
    if (state.loaded) return state.loaded
    const store = this.store!
    const [stored, versions, pending] = await Promise.all([store.head(state.name), store.versions(state.name), store.pending(state.name)])
    state.changes.seed(pending)
    const newest = versions[versions.length - 1]
    // a head always names the newest version (they are written together)
    const head = stored && newest && stored.seq === newest.seq ? stored : null
    if (stored && !head) this.ctx?.logger.error({ room: state.name }, 'history: head and versions disagree; the next version is a checkpoint')
    state.loaded = { head, headDs: null, versions }
    return state.loaded
  }

  /** {@link ensureLoaded}, and the head's delete set (rebuilt from the newest version) to take the next version against. */
  private async ensureHead(state: RoomState): Promise<Loaded> {
    const loaded = await this.ensureLoaded(state)
    if (!loaded.head || loaded.headDs) return loaded
    const chain = await this.chain(state.name, loaded.versions, loaded.versions.length - 1)
    loaded.headDs = await this.compute.run('deletions', chain)
    return loaded
  }

  // --- room hooks -------------------------------------------------------------------------

  onRoomLoaded(room: Room): void {
    if (this.stopped || !this.store) return
    const state = this.stateOf(room.name)
    state.room = room
    this.listen(state, room.doc)
    void this.enqueue(state, async () => {
      const { head, versions } = await this.ensureLoaded(state)
      // Changes since the last version that were never recorded (the relay stopped first): a version is due.
      if (state.room === room && head && Buffer.compare(head.sv, room.stateVector()) !== 0) this.changed(state)
      await this.retain(state, versions)
    }).catch((error: unknown) => this.ctx?.logger.error({ room: room.name, err: error }, 'history: loading failed'))
  }

  onUpdate(room: Room): void {
    const state = this.states.get(room.name)
    if (!state || state.room !== room) return
    if (state.doc !== room.doc) this.listen(state, room.doc) // rebuilt after a bad update
    this.changed(state)
  }

  onRoomUnloaded(room: Room): void {
    const state = this.states.get(room.name)
    if (!state || state.room !== room) return
    this.unlisten(state)
    state.room = null
    if (state.timer) clearTimeout(state.timer)
    state.timer = null
    if (!state.dirty || this.stopped) return
    // The doc goes with the room: its state is taken now, the version (in the worker) from a copy of it.
    const snapshot = room.encodeStateAsUpdate()
    state.dirty = false
    void this.enqueue(state, async () => {
      const loaded = await this.ensureHead(state)
      const captured = await this.compute.run('capture', snapshot, this.headOf(loaded), this.checkpointDue(loaded.versions))
      const taken = this.taken(state, captured, { kind: 'edit' })
      if (taken) await this.persist(state, null, [taken])
    }).catch((error: unknown) => this.ctx?.logger.error({ room: room.name, err: error }, 'history: recording a version at unload failed'))
  }

  private listen(state: RoomState, doc: Y.Doc): void {
    this.unlisten(state)
    const listener = (tr: Y.Transaction): void => {
      const room = state.room
      if (!room) return
      if (state.changes.record(tr, this.authorOfOrigin(tr.origin, room))) {
        void this.enqueue(state, () => this.store!.write([putPending(state.name, state.changes.list())])).catch(() => undefined)
      }
    }
    doc.on('afterTransaction', listener)
    state.doc = doc
    state.listener = listener
  }

  private unlisten(state: RoomState): void {
    if (state.doc && state.listener) state.doc.off('afterTransaction', state.listener)
    state.doc = null
    state.listener = null
  }

  /**
   * Who an update's origin writes for: the grant's author (a token's `sub`), else — in an open
   * relay only — the name the connection's editor announced in its awareness state (unverified).
   */
  private authorOfOrigin(origin: unknown, room: Room): VersionAuthor | null {
    const author = verified(authorOf(origin))
    if (author) return author
    if (!this.options.openNames()) return null
    const ids = (origin as { awarenessIds?: unknown } | null)?.awarenessIds
    if (!(ids instanceof Set)) return null
    for (const id of ids) {
      const user = (room.awareness.getStates().get(id as number) as { user?: { name?: unknown } } | undefined)?.user
      if (typeof user?.name === 'string' && user.name.trim() !== '') return { name: user.name.trim().slice(0, 200), verified: false }
    }
    return null
  }

  // --- quiet detection --------------------------------------------------------------------

  private changed(state: RoomState): void {
    if (this.stopped) return
    const now = Date.now()
    state.lastChangeAt = now
    if (state.dirty) return
    state.dirty = true
    state.firstChangeAt = now
    this.arm(state, this.options.quietMs)
  }

  private arm(state: RoomState, ms: number): void {
    if (state.timer) clearTimeout(state.timer)
    state.timer = setTimeout(() => this.due(state), Math.max(0, ms))
    state.timer.unref()
  }

  /** The quiet timer fired: a version, or the timer again for what is left of the quiet period. */
  private due(state: RoomState): void {
    state.timer = null
    if (!state.dirty || !state.room || this.stopped) return
    const maxWait = this.options.maxWaitMs ?? this.options.quietMs * 10
    const at = Math.min(state.lastChangeAt + this.options.quietMs, state.firstChangeAt + maxWait)
    const now = Date.now()
    if (now < at) return this.arm(state, at - now)
    this.record(state, { kind: 'edit' }).catch((error: unknown) => this.ctx?.logger.warn({ room: state.name, err: error }, 'history: recording a version failed; retrying later'))
  }

  /** Queues a version of the room's live doc; resolves with it (null: nothing changed, or the room went). */
  private record(state: RoomState, options: TakeOptions): Promise<VersionMeta | null> {
    const room = state.room
    if (!room) return Promise.resolve(null)
    this.pin(room)
    return this.enqueue(state, async () => {
      try {
        await this.ensureHead(state)
        if (state.room !== room) return null
        const taken = this.take(state, room.doc, options)
        if (!taken) return null
        await this.persist(state, room, [taken])
        return taken.meta
      } finally {
        this.unpin(room)
      }
    })
  }

  // --- taking and writing versions --------------------------------------------------------

  /** Whether the next version is stored whole: the deltas since the last checkpoint outgrew it. */
  private checkpointDue(versions: readonly VersionMeta[]): boolean {
    let deltas = 0
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i]!
      if (v.checkpoint) return deltas > CHECKPOINT_RATIO * Math.max(v.bytes, CHECKPOINT_FLOOR)
      deltas += v.bytes
    }
    return true
  }

  /**
   * Takes a version of `doc` now (synchronous): its records, the head moved to it in memory;
   * null when nothing changed since the head. Its authors are the changes' since the last version.
   */
  private take(state: RoomState, doc: Y.Doc, options: TakeOptions): Taken | null {
    const taken = capture(doc, this.headOf(state.loaded!), this.checkpointDue(state.loaded!.versions))
    if (state.room?.doc === doc) state.dirty = false
    return this.taken(state, taken, options)
  }

  /** The head to take the next version against. */
  private headOf(loaded: Loaded): Head | null {
    return loaded.head ? { id: loaded.head.id, state: { sv: loaded.head.sv, ds: loaded.headDs ?? new Map() } } : null
  }

  /** The records of a captured version (see {@link take}). */
  private taken(state: RoomState, taken: Capture | null, options: TakeOptions): Taken | null {
    const { versions } = state.loaded!
    if (!taken) return null
    const { authors, attribution } = state.changes.take()
    const seq = (versions[versions.length - 1]?.seq ?? -1) + 1
    const meta: VersionMeta = {
      id: taken.id,
      seq,
      time: Date.now(),
      kind: options.kind,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.namedBy ? { namedBy: options.namedBy } : {}),
      ...(options.restoredFrom ? { restoredFrom: options.restoredFrom } : {}),
      authors,
      inserted: taken.inserted,
      deleted: taken.deleted,
      checkpoint: taken.checkpoint,
      bytes: taken.entry.byteLength,
      attributed: attribution !== null,
    }
    const nextHead: StoredHead = { id: taken.id, seq, sv: taken.state.sv }
    state.loaded = { head: nextHead, headDs: taken.state.ds, versions: [...versions, meta] }
    return { meta, ops: [...putVersion(state.name, meta, taken.entry, attribution), putHead(state.name, nextHead)] }
  }

  /**
   * Writes versions taken from `room`'s doc once the room's log holds what they show. On failure
   * the state is read again from the store and the changes wait for the next version.
   */
  private async persist(state: RoomState, room: Room | null, taken: readonly Taken[]): Promise<void> {
    try {
      if (room) await room.flush()
      await this.store!.write([...taken.flatMap((t) => t.ops), putPending(state.name, state.changes.list())])
    } catch (error) {
      state.loaded = null
      for (const t of taken) state.changes.seed(t.meta.authors)
      if (state.room) this.changed(state)
      throw error
    }
    for (const { meta } of taken) {
      this.ctx?.logger.debug({ room: state.name, version: meta.id, kind: meta.kind, checkpoint: meta.checkpoint, bytes: meta.bytes }, 'history: version recorded')
      enqueueVersionCreated(this.ctx!.rooms, state.name, { version: meta.id, ...publicVersion(meta) }).catch((error: unknown) =>
        this.ctx?.logger.warn({ room: state.name, err: error }, 'history: version.created webhook not queued'))
    }
    await this.retain(state, state.loaded!.versions)
  }

  /** Applies retention to the room's versions (inside its queue). */
  private async retain(state: RoomState, versions: readonly VersionMeta[], extra?: ReadonlySet<number>): Promise<void> {
    await this.retainMarks(state.name)
    const remove = toRemove(versions, this.options.retention, Date.now())
    for (const seq of extra ?? []) remove.add(seq)
    if (remove.size === 0) return
    const store = this.store!
    const first = versions.findIndex((v) => remove.has(v.seq))
    let last = versions.length - 1
    for (let i = versions.length - 1; i >= 0; i--) {
      if (remove.has(versions[i]!.seq)) break
      last = i
    }
    const from = versions[first]!.seq
    const to = versions[last]!.seq
    const [entries, attributions] = await Promise.all([store.entries(state.name, from, to), store.attributions(state.name, from, to)])
    const stored = new Map<number, Stored>()
    for (const [seq, entry] of entries) stored.set(seq, { entry, attribution: attributions.get(seq) })
    const { ops, kept } = await this.compute.run('rewrite', state.name, [...versions], remove, stored)
    await store.write(ops)
    if (state.loaded) state.loaded = { ...state.loaded, versions: kept }
    this.ctx?.logger.debug({ room: state.name, removed: remove.size, kept: kept.length }, 'history: retention')
  }

  private sweepRetention(): void {
    for (const state of this.states.values()) {
      if (!state.loaded) continue
      void this.enqueue(state, () => this.retain(state, state.loaded?.versions ?? [])).catch((error: unknown) =>
        this.ctx?.logger.warn({ room: state.name, err: error }, 'history: retention failed'))
    }
  }

  // --- what the HTTP API asks -------------------------------------------------------------

  /**
   * The room's versions, oldest first: its own (with the name, kind and origin of a restore that
   * the cluster's marks give them), and those other relays shared that it did not record.
   */
  versions(name: string): Promise<VersionMeta[]> {
    const state = this.stateOf(name)
    return this.enqueue(state, async () => this.listed(name, (await this.ensureLoaded(state)).versions))
  }

  /** `versions` (the room's own) with the room's marks laid over them and the others' added, by time. */
  private listed(name: string, versions: readonly VersionMeta[]): VersionMeta[] {
    const marks = this.book?.of(name)
    if (!marks || marks.size === 0) return [...versions]
    const own = new Set(versions.map((v) => v.id))
    const out = versions.map((v) => {
      const mark = marks.get(v.id)
      if (!mark || mark.removed) return v
      const { name: _name, namedBy: _by, restoredFrom: _from, ...rest } = v
      return {
        ...rest,
        kind: mark.kind,
        ...(mark.name !== undefined ? { name: mark.name } : {}),
        ...(mark.namedBy ? { namedBy: mark.namedBy } : {}),
        ...(mark.restoredFrom ?? v.restoredFrom ? { restoredFrom: mark.restoredFrom ?? v.restoredFrom } : {}),
      }
    })
    for (const mark of marks.values()) if (!mark.removed && !own.has(mark.id)) out.push(metaOfMark(mark))
    return out.sort((a, b) => a.time - b.time)
  }

  /** The entries that rebuild version `id`: from the room's own history, else the state a mark carried; null: no such version. */
  private async chainOf(name: string, versions: readonly VersionMeta[], id: string): Promise<Uint8Array[] | null> {
    const index = versions.findIndex((v) => v.id === id)
    if (index >= 0) return this.chain(name, versions, index)
    const mark = this.book!.get(name, id)
    if (!mark || mark.removed) return null
    const state = await this.book!.state(name, id)
    return state ? [state] : null
  }

  /** The entries that rebuild `versions[index]`, oldest first. */
  private async chain(name: string, versions: readonly VersionMeta[], index: number): Promise<Uint8Array[]> {
    const start = chainStart(versions, index)
    const entries = await this.store!.entries(name, versions[start]!.seq, versions[index]!.seq)
    return versions.slice(start, index + 1).map((v) => entries.get(v.seq)!)
  }

  /** Version `id`'s state as one update (its chain merged, not applied), or null when there is no such version. */
  state(name: string, id: string): Promise<Uint8Array | null> {
    return this.withChain(name, id, (chain) => this.compute.run('merge', chain))
  }

  /** Version `id` as JSON (what `GET /api/rooms/:room` answers for a room), or null when there is no such version. */
  json(name: string, id: string): Promise<Record<string, unknown> | null> {
    return this.withChain(name, id, (chain) => this.compute.run('json', chain))
  }

  /** Runs `use` on the entries that rebuild version `id` (in the room's queue); null when there is no such version. */
  private withChain<T>(name: string, id: string, use: (chain: Uint8Array[]) => Promise<T>): Promise<T | null> {
    const state = this.stateOf(name)
    return this.enqueue(state, async () => {
      const { versions } = await this.ensureLoaded(state)
      const chain = await this.chainOf(name, versions, id)
      return chain ? use(chain) : null
    })
  }

  /** The diff from version `fromId` to version `id`, or null when either does not exist. */
  diff(name: string, fromId: string, id: string): Promise<(DiffResult & { from: VersionMeta; to: VersionMeta }) | null> {
    const state = this.stateOf(name)
    return this.enqueue(state, async () => {
      const { versions } = await this.ensureLoaded(state)
      const from = versions.findIndex((v) => v.id === fromId)
      const to = versions.findIndex((v) => v.id === id)
      if (from < 0 || to < 0) return this.sharedDiff(name, versions, fromId, id)
      const start = chainStart(versions, Math.min(from, to))
      const first = versions[start]!.seq
      const last = versions[Math.max(from, to)]!.seq
      const [entries, attributions] = await Promise.all([this.store!.entries(name, first, last), this.store!.attributions(name, first, last)])
      const diff = await this.compute.run('diff', { versions, from, to, entries, attributions, chainStart: start })
      const listed = this.listed(name, versions)
      return { ...diff, from: listed.find((v) => v.id === fromId)!, to: listed.find((v) => v.id === id)! }
    })
  }

  /**
   * A diff where either version is one only another relay recorded (a mark's state): both
   * versions' states as two checkpoints, the older (by state vector) first; no attribution (the
   * changes are attributed to the newer version's authors).
   */
  private async sharedDiff(name: string, versions: readonly VersionMeta[], fromId: string, id: string): Promise<(DiffResult & { from: VersionMeta; to: VersionMeta }) | null> {
    const listed = this.listed(name, versions)
    const fromMeta = listed.find((v) => v.id === fromId)
    const toMeta = listed.find((v) => v.id === id)
    const [fromChain, toChain] = await Promise.all([this.chainOf(name, versions, fromId), this.chainOf(name, versions, id)])
    if (!fromMeta || !toMeta || !fromChain || !toChain) return null
    const [fromState, toState] = await Promise.all([this.compute.run('merge', fromChain), this.compute.run('merge', toChain)])
    const covers = (a: Uint8Array, b: Uint8Array): boolean => {
      const sa = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(a))
      for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(b))) if ((sa.get(client) ?? 0) < clock) return false
      return true
    }
    const toFirst = covers(fromState, toState) && !covers(toState, fromState)
    const pair = toFirst ? [{ ...toMeta, seq: 0, checkpoint: true, attributed: false }, { ...fromMeta, seq: 1, checkpoint: true, attributed: false }] : [{ ...fromMeta, seq: 0, checkpoint: true, attributed: false }, { ...toMeta, seq: 1, checkpoint: true, attributed: false }]
    const entries = new Map([[0, toFirst ? toState : fromState], [1, toFirst ? fromState : toState]])
    const diff = await this.compute.run('diff', { versions: pair, from: toFirst ? 1 : 0, to: toFirst ? 0 : 1, entries, attributions: new Map(), chainStart: 0 })
    return { ...diff, from: fromMeta, to: toMeta }
  }

  /** A named version of `room` as it is now (the newest version gets the name when nothing changed since). */
  async nameVersion(room: Room, name: string, by: Author | undefined): Promise<VersionMeta> {
    const state = this.stateOf(room.name)
    if (state.room !== room) this.onRoomLoaded(room)
    const namedBy = verified(by)
    return this.enqueue(state, async () => {
      await this.ensureHead(state)
      const taken = this.take(state, room.doc, { kind: 'edit', name, ...(namedBy ? { namedBy } : {}) })
      if (taken) {
        await this.persist(state, room, [taken])
        await this.share(state, taken.meta)
        return taken.meta
      }
      const { versions } = state.loaded!
      const newest = { ...versions[versions.length - 1]!, name, ...(namedBy ? { namedBy } : {}) }
      await this.store!.write(putVersion(room.name, newest, null, undefined))
      state.loaded = { ...state.loaded!, versions: [...versions.slice(0, -1), newest] }
      const { name: _name, namedBy: _by, ...shown } = this.listed(room.name, [newest]).find((v) => v.id === newest.id)!
      await this.share(state, { ...shown, name, ...(namedBy ? { namedBy } : {}) })
      return newest
    })
  }

  /**
   * Restores version `id` in `room`: the changes not in a version yet become one first (the
   * state just before the restore), then one update that makes the document equal the version is
   * applied as `by`'s, and the result is a version of its own (kind `restore`). Null: no such
   * version. `restored` false: the document already equalled it.
   */
  async restore(room: Room, id: string, by: Author | undefined): Promise<{ version: VersionMeta; before: VersionMeta | null; restored: boolean } | null> {
    const state = this.stateOf(room.name)
    if (state.room !== room) this.onRoomLoaded(room)
    return this.enqueue(state, async () => {
      const { versions } = await this.ensureHead(state)
      const chain = await this.chainOf(room.name, versions, id)
      if (!chain) return null
      // The state just before the restore becomes a version, and the restore is computed against it
      // in the worker; updates that arrive meanwhile are concurrent with the restore: they stay.
      const before = this.take(state, room.doc, { kind: 'edit' })
      let update: Uint8Array | null
      try {
        update = await this.compute.run('restore', chain, Y.encodeStateAsUpdate(room.doc))
      } catch (error) {
        if (before) await this.persist(state, room, [before])
        throw error
      }
      let after: Taken | null = null
      if (update) {
        room.applyUpdate(update, httpOrigin(by))
        after = this.take(state, room.doc, { kind: 'restore', restoredFrom: id })
      }
      const taken = [before, after].filter((t): t is Taken => t !== null)
      if (taken.length > 0) await this.persist(state, room, taken)
      // The restore and the state before it are shown on every relay of the cluster (so "restore the version before the restore" works anywhere).
      for (const t of taken) await this.share(state, t.meta)
      const newest = state.loaded!.versions[state.loaded!.versions.length - 1]!
      return { version: after?.meta ?? newest, before: before?.meta ?? null, restored: update !== null }
    })
  }

  /** Removes version `id` (a named one too); the newest only loses its name. False: no such version. */
  removeVersion(name: string, id: string): Promise<boolean> {
    const state = this.stateOf(name)
    return this.enqueue(state, async () => {
      const { versions } = await this.ensureLoaded(state)
      const index = versions.findIndex((v) => v.id === id)
      const mark = this.book!.get(name, id)
      if (index < 0 && (!mark || mark.removed)) return false
      await this.removeOwn(state, id)
      // A tombstone, so the version goes on every relay of the cluster.
      const tombstone: VersionMark = { ...(mark ?? metaToMark(name, versions[index]!)), at: this.book!.decisionTime(name, id), relay: this.relayId(), removed: true }
      delete tombstone.name
      delete tombstone.namedBy
      delete tombstone.state
      await this.book!.write(tombstone, null, 'local')
      return true
    })
  }

  /** Removes version `id` from the room's own history (inside its queue); the newest only loses its name. */
  private async removeOwn(state: RoomState, id: string): Promise<void> {
    const { versions } = await this.ensureLoaded(state)
    const index = versions.findIndex((v) => v.id === id)
    if (index < 0) return
    if (index === versions.length - 1) {
      const { name: _name, namedBy: _by, ...rest } = versions[index]!
      await this.store!.write(putVersion(state.name, rest, null, undefined))
      state.loaded = { ...state.loaded!, versions: [...versions.slice(0, -1), rest] }
      return
    }
    await this.retain(state, versions, new Set([versions[index]!.seq]))
  }

  // --- sharing versions with the cluster (version-marks.ts) ---------------------------------

  /** Whether an unnamed shared version (a restore, the state before one) is past `--history-keep`. */
  private expired(mark: VersionMark, now: number): boolean {
    return !mark.removed && mark.name === undefined && this.options.retention.keepMs > 0 && now - mark.time > this.options.retention.keepMs
  }

  /** Forgets the room's unnamed shared versions past `--history-keep` (every relay does the same, and none accepts them again). */
  private retainMarks(room: string): Promise<void> {
    const now = Date.now()
    return this.book!.forget(room, (m) => this.expired(m, now))
  }

  private relayId(): string {
    return this.ctx?.config?.id || 'relay'
  }

  /**
   * Shares version `meta` of the room (one of its own, as listed) with the cluster: a mark with its
   * state. A failure is logged: the version stays here.
   */
  private async share(state: RoomState, meta: VersionMeta): Promise<void> {
    try {
      const { versions } = state.loaded ?? (await this.ensureLoaded(state))
      const chain = await this.chainOf(state.name, versions, meta.id)
      if (!chain) return
      const shared = await this.compute.run('merge', chain)
      // A version another relay shared as a restore stays one when it is named here.
      const held = this.book!.get(state.name, meta.id)
      const origin = held && !held.removed && held.kind === 'restore' ? { kind: held.kind, ...(held.restoredFrom ? { restoredFrom: held.restoredFrom } : {}) } : {}
      const mark: VersionMark = { ...metaToMark(state.name, meta), ...origin, at: this.book!.decisionTime(state.name, meta.id), relay: this.relayId(), state: shared }
      await this.book!.write(mark, shared, 'local')
    } catch (error) {
      this.ctx?.logger.error({ room: state.name, version: meta.id, err: error }, 'history: sharing a version with the cluster failed; it is listed on this relay only')
    }
  }

  keys(): MarkKey[] {
    return this.book?.keys() ?? []
  }

  read(keys: ReadonlyArray<Pick<MarkKey, 'room' | 'id'>>): Promise<Array<{ key: MarkKey; encoded: Uint8Array }>> {
    return this.book ? this.book.read(keys) : Promise.resolve([])
  }

  /** Hears every change of the marks (the replicating edges subscribe when they start, after the history). */
  onChange(listener: (encoded: Uint8Array, key: MarkKey, source: MarkSource) => void): () => void {
    if (!this.book) throw new Error('history: not started')
    return this.book.onChange(listener)
  }

  async merge(encoded: readonly Uint8Array[], source: MarkSource): Promise<number> {
    if (!this.started) return 0
    const from = source === 'local' ? undefined : source
    const max = this.book!.maxBytes
    const applied = await Promise.all(encoded.map(async (bytes) => {
      let mark: VersionMark
      try {
        mark = decodeMark(bytes, max, validRoom)
      } catch (error) {
        this.ctx?.logger.warn({ ...from, bytes: bytes.byteLength, reason: (error as Error).message }, 'history: malformed version mark from the cluster dropped')
        return false
      }
      const state = this.stateOf(mark.room)
      return this.enqueue(state, () => this.applyMark(state, mark, source)).catch((error: unknown) => {
        if (error instanceof MarkError) this.ctx?.logger.warn({ ...from, room: mark.room, version: mark.id, reason: error.message }, 'history: version mark from the cluster dropped')
        else this.ctx?.logger.error({ ...from, room: mark.room, version: mark.id, err: error }, 'history: applying a version mark failed')
        return false
      })
    }))
    return applied.filter(Boolean).length
  }

  /** Applies a mark from another relay (inside the room's queue): false when the one held wins. */
  private async applyMark(state: RoomState, mark: VersionMark, source: MarkSource): Promise<boolean> {
    const held = this.book!.get(mark.room, mark.id)
    if (held && !markWins(mark, held)) return false
    if (this.expired(mark, Date.now())) return false
    if (mark.state && (await this.compute.run('versionId', mark.state)) !== mark.id) throw new MarkError('its state does not hash to its id')
    const { versions } = await this.ensureLoaded(state)
    const index = versions.findIndex((v) => v.id === mark.id)
    if (mark.removed) await this.removeOwn(state, mark.id)
    else if (index >= 0 && (versions[index]!.name !== mark.name || JSON.stringify(versions[index]!.namedBy) !== JSON.stringify(mark.namedBy))) {
      // The room's own copy of the version takes the name (so retention keeps it).
      const { name: _name, namedBy: _by, ...rest } = versions[index]!
      const named: VersionMeta = { ...rest, ...(mark.name !== undefined ? { name: mark.name } : {}), ...(mark.namedBy ? { namedBy: mark.namedBy } : {}) }
      await this.store!.write(putVersion(state.name, named, null, undefined))
      state.loaded = { ...state.loaded!, versions: versions.map((v, i) => (i === index ? named : v)) }
    }
    await this.book!.write(mark, mark.state ?? null, source)
    this.ctx?.logger.debug({ room: mark.room, version: mark.id, removed: mark.removed, name: mark.name }, 'history: version mark from the cluster applied')
    return true
  }
}

/** A mark of version `meta` of `room` (without decision, relay and state). */
function metaToMark(room: string, meta: VersionMeta): VersionMark {
  return {
    room, id: meta.id, at: 0, relay: '', removed: false, time: meta.time, kind: meta.kind,
    ...(meta.name !== undefined ? { name: meta.name } : {}),
    ...(meta.namedBy ? { namedBy: meta.namedBy } : {}),
    ...(meta.restoredFrom ? { restoredFrom: meta.restoredFrom } : {}),
    authors: meta.authors, inserted: meta.inserted, deleted: meta.deleted,
  }
}

/** The history extension (see {@link History}). */
export function historyExtension(options: HistoryOptions): History {
  return new History(options)
}

export type { Attribution }
