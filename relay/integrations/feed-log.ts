/**
 * The change feed's log: every `changed` event, kept for the retention window so that a consumer
 * that reconnects with `Last-Event-ID` gets what it missed, in order, across restarts.
 *
 * Records (in the integrations store):
 * - `meta\0log` → this log's random id: event ids are `<log id>-<seq>`, so an id from another
 *   relay or from a data directory that was wiped is unknown here (the consumer gets `reset`).
 * - `ev\0<seq>` → an event (the all-rooms feed); `rev\0<room>\0<seq>` → the same event (the
 *   room's feed). `seq` is the journal's counter (16 hex digits), shared with the outbox, so a
 *   room's events have increasing but not consecutive numbers.
 * - `room\0<room>` → `{pruned, count}`: the highest seq of the room's feed deleted so far, and
 *   how many of its events are kept. A consumer of the room behind `pruned` missed something. A
 *   room whose events were all pruned loses its record (so memory holds the rooms with events in
 *   the window); for it, as for a room new to the log, the all-rooms mark stands in (a consumer
 *   behind it gets a reset even if the room had nothing then: conservative).
 * - `meta\0pruned` → the highest seq deleted from the all-rooms feed; `meta\0count` → how many
 *   events it keeps (written with each batch).
 *
 * Pruning (at start and every minute): events older than the retention window go from both
 * feeds; past `maxEvents`, a room's oldest events go from its feed, and the oldest events of all
 * go from the all-rooms feed (and from their rooms' feeds).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Author } from '../room/author.ts'
import type { Journal } from './journal.ts'
import { SEP, seqKey, under, type KvOp, type KvStore } from './store.ts'

/** One change of a room, as the feed stores and sends it. */
export interface FeedEvent {
  seq: number
  room: string
  /** The room's durably stored state vector after the change, base64. */
  stateVector: string
  /** Who wrote the updates since the room's previous event (as the relay attributed them). */
  authors: Author[]
  /** When the change was durably stored (ISO-8601). */
  time: string
}

const LOG_KEY = `meta${SEP}log`
const PRUNED_KEY = `meta${SEP}pruned`
const COUNT_KEY = `meta${SEP}count`
const EV = `ev${SEP}`
const ROOM = `room${SEP}`
const evKey = (seq: number): string => EV + seqKey(seq)
const revPrefix = (room: string): string => `rev${SEP}${room}${SEP}`
const roomKey = (room: string): string => ROOM + room

/** Events kept in memory for consumers that keep up (no store read for them). */
const RING = 4096

interface RoomRecord {
  pruned: number
  count: number
}

/** Where a consumer resumes: after `seq`, or a reset (with why). */
export type Resume = { seq: number } | { reset: string }

/** Retention of the feed. */
export interface FeedRetention {
  /** Events older than this are deleted (ms). */
  retentionMs: number
  /** At most this many events per room feed, and in the all-rooms feed. */
  maxEvents: number
}

/** The feed's log. Create with {@link FeedLog.open}. */
export class FeedLog {
  /** The highest seq whose event is durable and published to live consumers. */
  published: number
  /** Recent published events, in seq order; every event with seq > {@link ringFrom} is here. */
  private ring: FeedEvent[] = []
  private ringFrom: number
  private readonly rooms = new Map<string, RoomRecord>()
  private globalPruned: number
  private globalCount: number
  private readonly listeners = new Set<() => void>()
  private pruning: Promise<void> | null = null

  private constructor(
    private readonly store: KvStore,
    private readonly journal: Journal,
    readonly logId: string,
    private readonly retention: FeedRetention,
    globalPruned: number,
    globalCount: number,
  ) {
    this.published = journal.last
    this.ringFrom = journal.last
    this.globalPruned = globalPruned
    this.globalCount = globalCount
  }

  /** Opens the log (its id created on first use) and reads the rooms' records. */
  static async open(store: KvStore, journal: Journal, retention: FeedRetention): Promise<FeedLog> {
    let logId = await store.get(LOG_KEY)
    if (logId === undefined) {
      logId = randomBytes(6).toString('base64url')
      await store.batch([{ type: 'put', key: LOG_KEY, value: logId }])
    }
    const pruned = Number((await store.get(PRUNED_KEY)) ?? 0)
    const count = Number((await store.get(COUNT_KEY)) ?? 0)
    const log = new FeedLog(store, journal, logId, retention, pruned, count)
    for (const [key, value] of await store.range(under(ROOM))) log.rooms.set(key.slice(ROOM.length), JSON.parse(value) as RoomRecord)
    return log
  }

  /** The opaque id of `seq`. */
  idOf(seq: number): string {
    return `${this.logId}-${seq}`
  }

  /**
   * Where a consumer with `lastEventId` resumes (null: it has none, so it starts now), for one
   * room's feed or (room undefined) the all-rooms feed.
   */
  resume(lastEventId: string | null, room?: string): Resume {
    if (lastEventId === null) return { seq: this.published }
    const m = /^([A-Za-z0-9_-]+)-(\d{1,15})$/.exec(lastEventId.trim())
    if (!m || m[1] !== this.logId) return { reset: 'unknown event id' }
    const seq = Number(m[2])
    if (seq > this.published) return { reset: 'unknown event id' }
    return this.behind(seq, room) ? { reset: 'past the retention window' } : { seq }
  }

  /** Whether events after `seq` (of `room`, or of the all-rooms feed) were pruned. */
  behind(seq: number, room?: string): boolean {
    // A room without a record has no event kept: whatever it had is at or below the global mark.
    return (room === undefined ? this.globalPruned : (this.rooms.get(room)?.pruned ?? this.globalPruned)) > seq
  }

  /**
   * The writes of a new event, whose number the caller took from the journal; the in-memory
   * records move at once. Publish it with {@link publish} once the writes are durable.
   */
  appendOps(event: FeedEvent): KvOp[] {
    const value = JSON.stringify(event)
    const record = this.rooms.get(event.room) ?? { pruned: this.globalPruned, count: 0 }
    record.count++
    this.rooms.set(event.room, record)
    this.globalCount++
    // Over a cap by 1 %: pruned back to it in the background (not per event at a steady cap).
    const slack = Math.ceil(this.retention.maxEvents / 100)
    if (record.count > this.retention.maxEvents + slack || this.globalCount > this.retention.maxEvents + slack) void this.prune().catch(() => undefined)
    return [
      { type: 'put', key: evKey(event.seq), value },
      { type: 'put', key: revPrefix(event.room) + seqKey(event.seq), value },
      { type: 'put', key: roomKey(event.room), value: JSON.stringify(record) },
      { type: 'put', key: COUNT_KEY, value: String(this.globalCount) },
    ]
  }

  /** `event` is durable: live consumers may send it. */
  publish(event: FeedEvent): void {
    this.ring.push(event)
    if (this.ring.length > RING) this.ringFrom = this.ring.shift()!.seq
    if (event.seq > this.published) this.published = event.seq
    for (const listener of this.listeners) listener()
  }

  /** Calls `listener` after every published event; returns a function that stops it. */
  onPublish(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Published events after `seq` (of `room`, or of every room), in order, at most `limit`, and
   * the seq they reach: a reader that got fewer than `limit` has seen everything up to `through`.
   */
  async read(seq: number, room: string | undefined, limit: number): Promise<{ events: FeedEvent[]; through: number }> {
    const upTo = this.published
    if (seq >= upTo) return { events: [], through: seq }
    if (seq >= this.ringFrom) {
      const events: FeedEvent[] = []
      let lo = 0
      let hi = this.ring.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (this.ring[mid]!.seq <= seq) lo = mid + 1
        else hi = mid
      }
      for (let i = lo; i < this.ring.length; i++) {
        const event = this.ring[i]!
        if (event.seq > upTo) break
        if (room !== undefined && event.room !== room) continue
        events.push(event)
        if (events.length === limit) return { events, through: event.seq }
      }
      return { events, through: upTo }
    }
    const prefix = room === undefined ? EV : revPrefix(room)
    const entries = await this.store.range({ gt: prefix + seqKey(seq), lt: under(prefix).lt, limit })
    const events = entries.map(([, value]) => JSON.parse(value) as FeedEvent).filter((event) => event.seq <= upTo)
    return { events, through: events.length === limit ? events[events.length - 1]!.seq : upTo }
  }

  /** Deletes what is past the retention window or over the caps (one pass; concurrent calls share it). */
  prune(now = Date.now()): Promise<void> {
    this.pruning ??= this.pruneOnce(now).finally(() => {
      this.pruning = null
    })
    return this.pruning
  }

  private async pruneOnce(now: number): Promise<void> {
    const cutoff = new Date(now - this.retention.retentionMs).toISOString()
    // The all-rooms feed, oldest first: by age, then by count.
    for (;;) {
      const page = await this.store.range({ ...under(EV), limit: 1024 })
      const drop: FeedEvent[] = []
      let count = this.globalCount
      for (const [, value] of page) {
        const event = JSON.parse(value) as FeedEvent
        if (event.time >= cutoff && count <= this.retention.maxEvents) break
        drop.push(event)
        count--
      }
      if (drop.length === 0) break
      const ops: KvOp[] = []
      const touched = new Set<string>()
      for (const event of drop) {
        ops.push({ type: 'del', key: evKey(event.seq) }, { type: 'del', key: revPrefix(event.room) + seqKey(event.seq) })
        const record = this.rooms.get(event.room)
        if (record && event.seq > record.pruned) {
          record.pruned = event.seq
          record.count = Math.max(0, record.count - 1)
          touched.add(event.room)
        }
        if (event.seq > this.globalPruned) this.globalPruned = event.seq
      }
      this.globalCount -= drop.length
      for (const name of touched) {
        // A room with no event left needs no record (see behind): memory holds the rooms with events in the window.
        const record = this.rooms.get(name)!
        if (record.count === 0 && record.pruned <= this.globalPruned) {
          this.rooms.delete(name)
          ops.push({ type: 'del', key: roomKey(name) })
        } else {
          ops.push({ type: 'put', key: roomKey(name), value: JSON.stringify(record) })
        }
      }
      ops.push({ type: 'put', key: PRUNED_KEY, value: String(this.globalPruned) }, { type: 'put', key: COUNT_KEY, value: String(this.globalCount) })
      await this.journal.commit(ops)
      if (drop.length < page.length || page.length < 1024) break
    }
    // Rooms over the cap: their oldest events leave their own feed.
    for (const [name, record] of this.rooms) {
      const excess = record.count - this.retention.maxEvents
      if (excess <= 0) continue
      const page = await this.store.range({ ...under(revPrefix(name)), limit: excess })
      if (page.length === 0) continue
      const last = JSON.parse(page[page.length - 1]![1]) as FeedEvent
      record.pruned = Math.max(record.pruned, last.seq)
      record.count -= page.length
      const ops: KvOp[] = page.map(([key]) => ({ type: 'del', key }))
      ops.push({ type: 'put', key: roomKey(name), value: JSON.stringify(record) })
      await this.journal.commit(ops)
    }
  }
}
