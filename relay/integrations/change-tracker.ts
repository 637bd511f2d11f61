/**
 * Who wrote what a flush stored. `onUpdate` tells the tracker each accepted update's author and
 * whether this relay owns it; `onStored` asks which of them the flush covered.
 *
 * A room queues every accepted update for storage in the order `onUpdate` sees them, and a
 * flush stores the whole queue as it stands when the flush starts; while that append is in
 * flight, new updates wait in the queue (`room.unsaved`) for the next flush. So when `onStored`
 * runs, the covered updates are the tracked ones but the last `room.unsaved`.
 *
 * Ownership (the cluster rule for webhooks): an update that came from a peer relay or from Redis
 * (an origin carrying the sending relay in `from`: topology's PeerOrigin, redis's RedisOrigin) is
 * owned by the relay that accepted it from its client; anything else (a client connection, an
 * HTTP write, an embedder's own origin) is owned here.
 *
 * @module
 */
import { authorOf, type Author } from '../room/author.ts'

/** Whether `origin` is another relay's (a peer link's or Redis's), not a writer of this relay's. */
export function replicatedOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && typeof (origin as { from?: unknown }).from === 'string' && !('author' in origin)
}

/** Consecutive updates of one author and ownership. */
interface Run {
  author: Author | null
  owned: boolean
  n: number
}

interface Track {
  runs: Run[]
  total: number
  /** The room had nothing stored when it loaded and no update was applied since. */
  fresh: boolean
  /** The room's first update was this relay's: `room.created` when it is stored. */
  created: boolean
}

/** What one flush stored of a room. */
export interface StoredChange {
  authors: Author[]
  /** Some of it was written through this relay (it delivers the webhooks). */
  owned: boolean
  /** It holds the room's first update, written through this relay. */
  created: boolean
}

/** What an update changed in a room's crash mark (null: nothing to write). */
export interface MarkChange {
  owned: boolean
  created: boolean
}

/** Per-room accounting of accepted-but-not-yet-announced updates. */
export class ChangeTracker {
  private readonly tracks = new Map<string, Track>()
  /** Rooms whose crash mark is written (or queued), with what it says. */
  private readonly marks = new Map<string, MarkChange>()

  /** A room loaded; `empty`: nothing of it was stored. */
  loaded(room: string, empty: boolean): void {
    this.tracks.set(room, { runs: [], total: 0, fresh: empty, created: false })
  }

  /** An update was applied to `room`. Returns the room's crash mark when it must be (re)written. */
  update(room: string, origin: unknown): MarkChange | null {
    let track = this.tracks.get(room)
    if (!track) {
      track = { runs: [], total: 0, fresh: false, created: false }
      this.tracks.set(room, track)
    }
    const owned = !replicatedOrigin(origin)
    if (track.fresh) {
      track.fresh = false
      track.created = owned
    }
    const author = authorOf(origin)
    const last = track.runs[track.runs.length - 1]
    if (last && last.owned === owned && last.author?.id === author?.id && last.author?.name === author?.name) last.n++
    else track.runs.push({ author, owned, n: 1 })
    track.total++
    const mark = this.marks.get(room)
    if (mark && (mark.owned || !owned) && (mark.created || !track.created)) return null
    const next = { owned: owned || (mark?.owned ?? false), created: track.created || (mark?.created ?? false) }
    this.marks.set(room, next)
    return next
  }

  /** A flush of `room` is durable; `unsaved` updates wait for the next one. Null when it covered nothing tracked. */
  stored(room: string, unsaved: number): StoredChange | null {
    const track = this.tracks.get(room)
    if (!track) return null
    let covered = track.total - unsaved
    if (covered <= 0) return null
    track.total -= covered
    const authors = new Map<string, Author>()
    let owned = false
    while (covered > 0) {
      const run = track.runs[0]!
      const take = Math.min(run.n, covered)
      covered -= take
      run.n -= take
      if (run.n === 0) track.runs.shift()
      if (run.owned) owned = true
      if (run.author) authors.set(run.author.id, run.author)
    }
    const created = track.created
    track.created = false
    if (created) {
      const mark = this.marks.get(room)
      if (mark) mark.created = false
    }
    return { authors: [...authors.values()], owned, created }
  }

  /** Whether every tracked update of `room` was covered by a stored flush. */
  settled(room: string): boolean {
    return (this.tracks.get(room)?.total ?? 0) === 0
  }

  /** The room unloaded (after its last flush). True when its crash mark can go. */
  unloaded(room: string): boolean {
    const settled = this.settled(room)
    this.tracks.delete(room)
    if (settled) this.marks.delete(room)
    return settled
  }

  /** What the crash mark of `room` says now (undefined: none). */
  markOf(room: string): MarkChange | undefined {
    return this.marks.get(room)
  }

  /** Forgets the mark of `room` (cleared at a clean stop). */
  clearMark(room: string): void {
    this.marks.delete(room)
  }

  /** Rooms with a crash mark. */
  marked(): string[] {
    return [...this.marks.keys()]
  }
}
