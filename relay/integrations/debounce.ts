/**
 * `room.changed` webhooks, debounced per room: a room's changes since its last webhook are
 * collected in `wpend\0<room>` (written with the feed event that announces each change, so a
 * restart loses none of them) and enqueued as one message `debounceMs` after the room's last
 * change, or `maxWaitMs` after its first, whichever comes first.
 *
 * @module
 */
import type { Author } from '../room/author.ts'
import type { Journal } from './journal.ts'
import { mergeAuthors, type Outbox } from './outbox.ts'
import { SEP, under, type KvOp, type KvStore } from './store.ts'

const WPEND = `wpend${SEP}`

/** A room's changes not yet enqueued as a webhook. */
interface Pending {
  /** Milliseconds since the epoch of the first and the latest change. */
  first: number
  last: number
  eventId: string
  stateVector: string
  authors: Author[]
}

/** Debounce settings. */
export interface DebounceOptions {
  debounceMs: number
  maxWaitMs: number
  /** The URL of `GET /api/rooms/:room` for `room`. */
  roomUrl: (room: string) => string
}

/** Collects each room's changes and enqueues one `room.changed` per burst. */
export class ChangeDebounce {
  private readonly pending = new Map<string, Pending>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly store: KvStore,
    private readonly journal: Journal,
    private readonly outbox: Outbox,
    private readonly options: DebounceOptions,
  ) {}

  /** Reads the changes a previous run had not enqueued yet, and arms their timers. */
  async load(): Promise<void> {
    for (const [key, value] of await this.store.range(under(WPEND))) {
      const room = key.slice(WPEND.length)
      this.pending.set(room, JSON.parse(value) as Pending)
      this.arm(room)
    }
  }

  /** The writes that add a change of `room` (the feed event `eventId`) to its pending webhook. */
  changed(room: string, eventId: string, stateVector: string, authors: Author[], now = Date.now()): KvOp[] {
    const before = this.pending.get(room)
    const pending: Pending = before
      ? { first: before.first, last: now, eventId, stateVector, authors: mergeAuthors(before.authors, authors) }
      : { first: now, last: now, eventId, stateVector, authors }
    this.pending.set(room, pending)
    return [{ type: 'put', key: WPEND + room, value: JSON.stringify(pending) }]
  }

  /** (Re)arms the timer of `room` (call once the change's writes are durable, or at any time after). */
  arm(room: string): void {
    const pending = this.pending.get(room)
    if (!pending || this.stopped) return
    const old = this.timers.get(room)
    if (old) clearTimeout(old)
    const due = Math.min(pending.last + this.options.debounceMs, pending.first + this.options.maxWaitMs)
    const timer = setTimeout(() => this.fire(room), Math.max(0, due - Date.now()))
    timer.unref()
    this.timers.set(room, timer)
  }

  private fire(room: string): void {
    this.timers.delete(room)
    const pending = this.pending.get(room)
    if (!pending || this.stopped) return
    this.pending.delete(room)
    const { ops, then } = this.outbox.enqueue(room, 'room.changed', {
      room,
      eventId: pending.eventId,
      stateVector: pending.stateVector,
      authors: pending.authors,
      url: this.options.roomUrl(room),
    })
    ops.unshift({ type: 'del', key: WPEND + room })
    this.journal.add(ops, then)
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }
}
