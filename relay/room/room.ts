/**
 * One room: a Y.Doc, its awareness, the clients connected to it, and the batch of accepted
 * updates waiting to be stored. The forwarding path encodes each outgoing message once and
 * sends the same buffer to every receiver; storage is appended in batches after forwarding.
 *
 * @module
 */
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import type { Logger } from 'pino'
import { addDeletions, encodeAwareness, encodeDeleteSet, encodeSaved, encodeStateVectorOf, encodeSyncUpdate, isNothing, mergeDeleted, type DeletedRanges } from '../wire/protocol.ts'
import { RelayError } from '../wire/errors.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import { retryDelayMs, type StorageHealth } from './storage-health.ts'
import { FlushTick, type FlushDue } from './flush-tick.ts'
import { RoomAwareness, RoomDoc } from './room-doc.ts'

/**
 * What the doc holds apart from its integrated structs: updates waiting for missing
 * dependencies. Yjs replaces `pendingDs` but merges new pending structs into the existing
 * `pendingStructs` object (its `update` field), so both the object and its update are compared.
 */
type PendingMark = readonly [object | null, Uint8Array | null, Uint8Array | null]
const pendingMark = (store: Y.Doc['store']): PendingMark => [store.pendingStructs, store.pendingStructs?.update ?? null, store.pendingDs]
const samePending = (a: PendingMark, b: PendingMark): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2]

/** The label of every append latency observation (one object, not one per observation). */
const APPEND = { op: 'append' } as const
const RESOLVED = Promise.resolve()

/**
 * `bytes` to keep until stored. A small message's bytes are a view into a buffer it shares with
 * other data (a socket read, Node's 8 KiB pool), which a kept view would hold entirely: copied.
 * A large message (a document uploaded whole) has a buffer of its own, nearly all of it the
 * update: kept as it is, instead of a second copy of up to the message size limit.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength >= 64 * 1024 && bytes.byteLength >= bytes.buffer.byteLength * 0.9 ? bytes : bytes.slice()
}

/** Deleting transactions kept for the next delete-set computation before the cache is dropped instead. */
const DS_SINCE_MAX = 1024

/** A local receiver of room messages (a client connection). */
export interface RoomClient {
  /** Sends one encoded frame; must not throw. */
  send(frame: Uint8Array): void
  /** Whether the client subscribed to saved acknowledgements (type 100). */
  readonly savedSubscribed: boolean
  /** Awareness client ids whose states this client controls. */
  readonly awarenessIds: Set<number>
}

/** Callbacks the room manager gives a room (extension fan-out). */
export interface RoomHooks {
  onUpdate(room: Room, update: Uint8Array, origin: unknown): void
  onStored(room: Room, persistedStateVector: Uint8Array): void
}

/** What a room needs from the relay. */
export interface RoomDeps {
  storage: StorageAdapter
  flushMs: number
  /** The relay's shared flush timer (a room of its own when not given). */
  flushTick?: FlushTick
  /** Compact the stored log from the live doc once this many bytes were appended since the last snapshot (and at least the snapshot's size). */
  compactBytes: number
  logger: Logger
  metrics: RelayMetrics
  hooks: RoomHooks
  /** Where failed and recovered appends are reported (health, metrics). */
  storageHealth?: StorageHealth
}

/** A loaded room. Create through {@link RoomManager.get}. */
export class Room implements FlushDue {
  /** The room's name. */
  readonly name: string
  /**
   * The room's document (everything loaded from storage plus everything accepted since).
   * Replaced by a rebuilt doc if an update that decoded still threw halfway through applying.
   */
  doc: Y.Doc = new RoomDoc()
  /** The room's awareness (the relay itself has no local state). */
  readonly awareness: Awareness
  /** Connected local clients. */
  readonly clients = new Set<RoomClient>()
  /** Pins (connections, extensions, HTTP requests) keeping the room loaded. */
  pins = 0
  private readonly deps: RoomDeps
  private queue: Uint8Array[] = []
  private readonly flushTick: FlushTick
  /** Waiting for the shared flush tick. */
  private onTick = false
  /** A retry after a failed append, on its own backoff. */
  private timer: NodeJS.Timeout | null = null
  /** The last flush asked for, and how many flushes have not settled yet (0: none runs). */
  private flushChain: Promise<void> = Promise.resolve()
  private flushesRunning = 0
  private persisted: Uint8Array
  /** Consecutive failed appends (the retry backs off with it). */
  private failures = 0
  /** While a rebuild runs: updates accepted meanwhile, re-applied to the rebuilt doc. */
  private rebuildLog: Uint8Array[] | null = null
  private rebuilding: Promise<void> = Promise.resolve()
  /** Bytes of the stored log beyond its last snapshot, and the snapshot's size. */
  private appendedBytes = 0
  private appendedEntries = 0
  private snapshotBytes = 0
  private compacting = false
  /** Encoded delete set of what is durably stored, or null when not known (then computed lazily). */
  private persistedDs: Uint8Array | null = null
  /**
   * The doc's delete set as last computed (null: compute from the store), its encoding, and the
   * deletions of the transactions since (merged in on the next computation).
   */
  private dsCache: { ds: DeletedRanges; encoded: Uint8Array } | null = null
  private dsSince: Array<Y.Snapshot['ds']> = []
  /** The append in flight, if any (the doc then holds more than is stored). */
  private storing: { batch: Uint8Array[]; sv: Uint8Array; ds: Uint8Array | null; started: number } | null = null
  /**
   * The doc's whole state as one update, until the doc changes — held weakly: a burst of joins
   * (clients reconnecting after a restart) encodes it once, but a quiet room does not keep a
   * second copy of its document (0.2 MiB per automerge-paper-sized room) until its next change.
   */
  private fullState: WeakRef<Uint8Array> | null = null
  private fullStatePending: PendingMark = [null, null, null]
  /**
   * Set when a transaction added structs or deletions (pending structs aside). Reset before each
   * applied update: one update can run more than one transaction (Yjs cleans up formatting
   * attributes in a second transaction after the first), so "the last one changed nothing"
   * does not mean the update changed nothing.
   */
  private changedSinceReset = false
  /**
   * After every transaction: notes whether it changed the doc, forgets {@link fullState} if so,
   * and keeps its deletions for the next delete-set computation.
   */
  private readonly onTransaction = (tr: Y.Transaction): void => {
    const deleted = tr.deleteSet.clients.size > 0
    let changed = deleted || tr.beforeState.size !== tr.afterState.size
    if (!changed) for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) changed = true
    if (changed) this.changedSinceReset = true
    if (this.fullState !== null && (changed || !samePending(this.fullStatePending, pendingMark(this.doc.store)))) this.fullState = null
    if (!this.dsCache || !deleted) return
    this.dsSince.push(tr.deleteSet)
    if (this.dsSince.length > DS_SINCE_MAX) {
      // Nobody asked for a while (no saved subscribers): drop the cache, walk the store when asked.
      this.dsCache = null
      this.dsSince = []
    }
  }

  constructor(name: string, deps: RoomDeps, persistedStateVector: Uint8Array | null) {
    this.name = name
    this.deps = deps
    this.flushTick = deps.flushTick ?? new FlushTick(deps.flushMs)
    this.doc.on('afterTransaction', this.onTransaction)
    this.awareness = new RoomAwareness(this.doc)
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.onAwarenessUpdate)
    this.persisted = persistedStateVector ?? encodeStateVectorOf(this.doc.store)
  }

  /** Applies stored updates (at load; nothing is forwarded or re-stored). Throws on a corrupt log. */
  loadStored(updates: Uint8Array[], persistedStateVector: Uint8Array | null): void {
    Y.transact(this.doc, () => {
      for (const update of updates) Y.applyUpdate(this.doc, update, 'storage')
    })
    this.persisted = persistedStateVector ?? encodeStateVectorOf(this.doc.store)
    this.snapshotBytes = updates[0]?.byteLength ?? 0
    for (let i = 1; i < updates.length; i++) this.appendedBytes += updates[i]!.byteLength
    this.appendedEntries = Math.max(0, updates.length - 1)
  }

  /**
   * Validates `update`, applies it to the doc, forwards the same bytes to every local client
   * except `origin`, queues it for storage and fires the extensions' `onUpdate`; true. An update
   * that brings nothing new is none of that: false. Throws an `invalid-update` {@link RelayError} (nothing applied, forwarded or stored) on junk.
   */
  applyUpdate(update: Uint8Array, origin: unknown): boolean {
    // An update with no structs and no deletions (what a client that has nothing new answers
    // to sync step 1) changes nothing: not applied, forwarded or stored.
    if (isNothing(update)) return false
    const before = pendingMark(this.doc.store)
    this.changedSinceReset = false
    try {
      // Not decoded beforehand: Yjs reads every struct before it integrates any, so junk that
      // does not decode throws with the doc untouched.
      Y.applyUpdate(this.doc, update, origin)
    } catch (cause) {
      if (!this.changedSinceReset && samePending(before, pendingMark(this.doc.store))) {
        throw new RelayError('invalid-update', 'update does not decode', { cause })
      }
      // It decoded far enough to integrate part of itself before throwing. Nothing of it is
      // forwarded or stored; the doc is rebuilt from storage.
      this.rebuild()
      throw new RelayError('invalid-update', 'update does not apply', { cause })
    }
    // Everything in it was already here (a joining client's answer to sync step 1 repeats the
    // delete set it just received): it was forwarded and stored when it first arrived. Not
    // while a rebuild runs — the doc may then hold structs of a partly applied bad update.
    const noOp = !this.changedSinceReset && samePending(before, pendingMark(this.doc.store))
    if (noOp && !this.rebuildLog) return false
    this.rebuildLog?.push(update)
    const { metrics } = this.deps
    metrics.updatesIn.inc()
    // What is queued for storage: the update's bytes at the end of the frame when there is one,
    // else the update itself when it fills its buffer, else a copy (see ownBytes).
    let stored: Uint8Array
    if (this.clients.size > (this.clients.has(origin as RoomClient) ? 1 : 0)) {
      const frame = encodeSyncUpdate(update)
      this.broadcast(frame, origin)
      stored = frame.subarray(frame.byteLength - update.byteLength)
    } else {
      stored = ownBytes(update)
    }
    this.queue.push(stored)
    this.scheduleFlush()
    this.deps.hooks.onUpdate(this, update, origin)
    return true
  }

  /** Applies an awareness update from `from` and forwards `frame` (its encoded message) to the others. */
  applyAwareness(update: Uint8Array, from: RoomClient, frame: Uint8Array): void {
    try {
      applyAwarenessUpdate(this.awareness, update, from)
    } catch (cause) {
      throw new RelayError('invalid-update', 'awareness update does not apply', { cause })
    }
    this.broadcast(frame, from, false)
  }

  /** The awareness message carrying every known state, or null when there is none. */
  awarenessFrame(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    return ids.length === 0 ? null : encodeAwareness(encodeAwarenessUpdate(this.awareness, ids))
  }

  /** Sends `frame` to every client except `except`. */
  broadcast(frame: Uint8Array, except?: unknown, isUpdate = true): void {
    let sent = 0
    for (const client of this.clients) {
      if (client === except) continue
      client.send(frame)
      sent++
    }
    if (isUpdate && sent > 0) this.deps.metrics.updatesOut.inc(sent)
  }

  /** Removes `client`, and the awareness states it controlled for everybody. */
  removeClient(client: RoomClient): void {
    if (!this.clients.delete(client)) return
    const ids = [...client.awarenessIds].filter((id) => this.awareness.states.has(id))
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, null)
  }

  private readonly onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const client = this.clients.has(origin as RoomClient) ? (origin as RoomClient) : null
    if (client) {
      for (const id of change.added) client.awarenessIds.add(id)
      for (const id of change.updated) client.awarenessIds.add(id)
      for (const id of change.removed) client.awarenessIds.delete(id)
      return // the client's own frame is forwarded as received
    }
    const changed = [...change.added, ...change.updated, ...change.removed]
    if (changed.length > 0) this.broadcast(encodeAwareness(encodeAwarenessUpdate(this.awareness, changed)), undefined, false)
  }

  /** The room's current state vector. */
  stateVector(): Uint8Array {
    return encodeStateVectorOf(this.doc.store)
  }

  /** The room's state (or what a peer with state vector `sv` misses) as one update. */
  encodeStateAsUpdate(sv?: Uint8Array): Uint8Array {
    // Most joiners start empty: their answer is the whole state, encoded once per doc change.
    // The buffer is shared; callers copy it (frames) or store it, never change it.
    if (sv === undefined || (sv.length === 1 && sv[0] === 0)) {
      let state = this.fullState?.deref()
      if (state === undefined) {
        state = Y.encodeStateAsUpdate(this.doc)
        this.fullState = new WeakRef(state)
        this.fullStatePending = pendingMark(this.doc.store)
      }
      return state
    }
    return Y.encodeStateAsUpdate(this.doc, sv)
  }

  /** The state vector of what is durably stored. */
  persistedStateVector(): Uint8Array {
    return this.persisted
  }

  /**
   * The encoded delete set of what is durably stored (sent in the saved frame), or null when
   * not known. Computed from the doc only when nothing unstored is in it (nothing queued, no
   * append in flight, no rebuild).
   */
  persistedDeleteSet(): Uint8Array | null {
    if (this.persistedDs === null && this.queue.length === 0 && this.storing === null && !this.rebuildLog) this.persistedDs = this.deleteSet()
    return this.persistedDs
  }

  /**
   * The doc's encoded delete set. Walks the store once; afterwards only the deletions of the
   * transactions since are merged in (in the cost of the delete set's ranges, not the doc's size).
   */
  private deleteSet(): Uint8Array {
    if (!this.dsCache) {
      const ds = mergeDeleted([Y.createDeleteSetFromStructStore(this.doc.store)])
      this.dsCache = { ds, encoded: encodeDeleteSet(ds) }
    } else if (this.dsSince.length > 0) {
      addDeletions(this.dsCache.ds, this.dsSince)
      this.dsCache.encoded = encodeDeleteSet(this.dsCache.ds)
    }
    this.dsSince = []
    return this.dsCache.encoded
  }

  /** Updates accepted but not yet stored. */
  get unsaved(): number {
    return this.queue.length
  }

  /**
   * Queued updates are stored on the shared flush tick (every room in the same turn, one write
   * group); a retry after a failed append waits its own backoff instead.
   */
  private scheduleFlush(retryMs?: number): void {
    if (this.timer) return
    if (retryMs === undefined) {
      if (this.onTick) return
      this.onTick = true
      this.flushTick.add(this)
      return
    }
    this.timer = setTimeout(() => {
      this.timer = null
      this.flushDue()
    }, retryMs)
    this.timer.unref()
  }

  /** The flush tick (or the retry timer) fired. A failure is logged and retried by the flush itself. */
  flushDue(): void {
    void this.flush()
  }

  /** Stores every queued update now; resolves once they are durable. Rejects (and keeps them queued) when storage fails. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    if (this.onTick) {
      this.onTick = false
      this.flushTick.delete(this)
    }
    // Flushes run one after another; the first (what the flush tick starts) without a chain.
    const next = this.flushesRunning === 0 ? this.flushOnce() : this.flushChain.then(this.flushOnceAfter)
    this.flushesRunning++
    // Handles the rejection too: the caller may drop `next` (the flush tick does).
    this.flushChain = next.then(this.flushSettled, this.flushSettled)
    return next
  }

  private readonly flushOnceAfter = (): Promise<void> => this.flushOnce()
  private readonly flushSettled = (): void => {
    this.flushesRunning--
  }

  /** Whether some client subscribed to saved acknowledgements. */
  private savedSubscribers(): boolean {
    for (const client of this.clients) if (client.savedSubscribed) return true
    return false
  }

  /**
   * Starts one append of everything queued. Not an async function: the flush tick runs this for
   * every room with unsaved updates, and the append's state lives in {@link storing} (flushes
   * run one at a time) rather than in a closure per flush.
   */
  private flushOnce(): Promise<void> {
    if (this.queue.length === 0) return RESOLVED
    const batch = this.queue
    this.queue = []
    const sv = encodeStateVectorOf(this.doc.store)
    // Taken with `sv`, so the ack never claims more than this append stores; only for subscribers,
    // and not while a rebuild runs (the doc may hold part of an update that is never stored).
    const ds = !this.rebuildLog && this.savedSubscribers() ? this.deleteSet() : null
    this.storing = { batch, sv, ds, started: performance.now() }
    let appended: Promise<void>
    try {
      appended = this.deps.storage.append(this.name, batch, sv)
    } catch (error) {
      appended = Promise.reject(error)
    }
    return appended.then(this.appended, this.appendFailed)
  }

  /** The append in flight succeeded: ack it, count it toward compaction. */
  private readonly appended = (): void => {
    const { batch, sv, ds, started } = this.storing!
    this.storing = null
    const { metrics, logger } = this.deps
    metrics.storeLatency.observe(APPEND, (performance.now() - started) / 1000)
    if (this.failures > 0) {
      logger.warn({ room: this.name, attempts: this.failures + 1, updates: batch.length }, 'storing updates recovered')
      this.failures = 0
      this.deps.storageHealth?.stored(this.name)
    }
    this.persisted = sv
    this.persistedDs = ds
    for (let i = 0; i < batch.length; i++) this.appendedBytes += batch[i]!.byteLength
    this.appendedEntries += batch.length
    this.maybeCompact()
    if (this.savedSubscribers()) {
      const frame = encodeSaved(sv, this.persistedDeleteSet())
      for (const client of this.clients) if (client.savedSubscribed) client.send(frame)
    }
    this.deps.hooks.onStored(this, sv)
  }

  /**
   * The append in flight failed: nothing of the batch is acknowledged; it goes back to the head
   * of the queue and the append is retried with backoff (or earlier by an explicit flush).
   */
  private readonly appendFailed = (error: unknown): never => {
    const { batch, started } = this.storing!
    this.storing = null
    const { metrics, logger } = this.deps
    metrics.storeLatency.observe(APPEND, (performance.now() - started) / 1000)
    this.queue = batch.concat(this.queue)
    this.failures++
    metrics.errors.inc({ code: 'store-failed' })
    this.deps.storageHealth?.failed(this.name, this.queue.length, error)
    const retryMs = retryDelayMs(this.failures, this.deps.flushMs)
    logger.error({ room: this.name, err: error, updates: this.queue.length, attempt: this.failures, retryMs }, 'storing updates failed; kept in memory, retrying')
    this.scheduleFlush(retryMs)
    throw error
  }

  /**
   * Replaces the stored log by the live doc as one update once enough was appended (amortised:
   * at least `compactBytes`, and at least the last snapshot's size, so the encoding cost stays
   * proportional to what was appended). Skipped while a rebuild runs; while the doc holds
   * pending structs (updates with missing dependencies) the store's checked merge runs instead.
   */
  private maybeCompact(): void {
    if (this.compacting || this.rebuildLog) return
    // A log of one entry (a new room's first upload) is as compact as a snapshot.
    if (this.appendedEntries + (this.snapshotBytes > 0 ? 1 : 0) < 2) return
    if (this.appendedBytes < Math.max(this.deps.compactBytes, this.snapshotBytes)) return
    const { storage, logger } = this.deps
    const store = this.doc.store
    // With pending structs the store merges its own log (checked, off the event loop) instead.
    const snapshot = store.pendingStructs || store.pendingDs ? undefined : this.encodeStateAsUpdate()
    const appended = this.appendedBytes
    const entries = this.appendedEntries
    this.compacting = true
    storage.compact(this.name, snapshot).then(
      () => {
        if (snapshot) this.snapshotBytes = snapshot.byteLength
        this.appendedBytes -= appended
        this.appendedEntries -= entries
        logger.debug({ room: this.name, appended, snapshot: snapshot?.byteLength }, 'stored log compacted')
      },
      (error: unknown) => {
        logger.warn({ room: this.name, err: error }, 'compaction failed; the log is kept as it was')
        this.appendedBytes -= appended / 2 // try again after a while, not on every flush
      },
    ).finally(() => {
      this.compacting = false
    })
  }

  /**
   * Replaces the doc with one rebuilt from storage plus every update accepted meanwhile
   * (all-or-nothing apply: a partially applied bad update disappears).
   */
  private rebuild(): void {
    if (this.rebuildLog) return
    const log: Uint8Array[] = []
    this.rebuildLog = log
    const { storage, logger, metrics } = this.deps
    logger.warn({ room: this.name }, 'an update threw while applying; rebuilding the room doc from storage')
    this.rebuilding = (async () => {
      try {
        await this.flush()
        const stored = await storage.load(this.name)
        const fresh = new RoomDoc({ gc: this.doc.gc })
        Y.transact(fresh, () => {
          for (const update of stored) Y.applyUpdate(fresh, update, 'storage')
          for (const update of log) Y.applyUpdate(fresh, update, 'storage')
        })
        this.doc = fresh
        fresh.on('afterTransaction', this.onTransaction)
        this.dsCache = null
        this.dsSince = []
        this.fullState = null
      } catch (error) {
        metrics.errors.inc({ code: 'rebuild-failed' })
        logger.error({ room: this.name, err: error }, 'rebuilding the room doc failed; keeping the current doc')
      } finally {
        this.rebuildLog = null
      }
    })()
  }

  /** Resolves when no rebuild is running and every queued update is stored. */
  async settled(): Promise<void> {
    await this.rebuilding
    await this.flush()
  }

  /** Releases timers and the awareness. Call after the last flush. */
  destroy(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.flushTick.delete(this)
    this.onTick = false
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
  }
}
