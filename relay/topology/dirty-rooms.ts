/**
 * Per known peer, the rooms changed here while the link to that peer was down. Yjs
 * deletions do not move state vectors, so on the next link up these rooms are exchanged
 * with their delete sets (digest flag `force`) even when the state vectors are equal.
 *
 * The record is kept in a small file beside the relay's data (when a file is given) and
 * written synchronously the moment a (peer, room) pair is added — in the update hook, before
 * the room's batch reaches storage — so a change that is stored is also remembered as
 * unsent: a relay cut off from a peer that goes down (kill -9 included) before the heal
 * still pushes its delete-only changes at the heal, without any client opening the room.
 * Removals are written lazily: a stale entry only costs one extra exchange.
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'

interface Stored {
  version: 1
  dirty: Record<string, string[]>
}

/** The dirty-room record of one relay. */
export class DirtyRooms {
  private readonly byPeer = new Map<string, Set<string>>()
  private lazy: NodeJS.Timeout | null = null

  constructor(private readonly file: string | undefined, private readonly logger: Logger) {
    if (!file) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return // first start
    }
    try {
      const stored = JSON.parse(text) as Stored
      for (const [peer, rooms] of Object.entries(stored.dirty ?? {})) this.byPeer.set(peer, new Set(rooms))
      logger.info({ file, peers: this.byPeer.size }, 'restored rooms changed while links were down')
    } catch (err) {
      // Unreadable (a torn write is impossible: it is replaced by rename): log and start empty.
      logger.warn({ err, file }, 'dirty-room record unreadable; starting empty')
    }
  }

  /** Peers this relay has known (linked at least once, or restored). */
  peers(): string[] {
    return [...this.byPeer.keys()]
  }

  /** Whether `peer` is known. */
  knows(peer: string): boolean {
    return this.byPeer.has(peer)
  }

  /** Makes `peer` known, with `rooms` dirty for it if it was not known yet. */
  know(peer: string, rooms: Iterable<string>): void {
    if (this.byPeer.has(peer)) return
    this.byPeer.set(peer, new Set(rooms))
    this.save()
  }

  /** Whether `room` changed while the link to `peer` was down. */
  has(peer: string, room: string): boolean {
    return this.byPeer.get(peer)?.has(room) === true
  }

  /** Marks `room` dirty for `peer` (written before returning when new). */
  mark(peer: string, room: string): void {
    let set = this.byPeer.get(peer)
    if (!set) this.byPeer.set(peer, (set = new Set()))
    if (set.has(room)) return
    set.add(room)
    this.save()
  }

  /** `room` was exchanged with `peer`. */
  clear(peer: string, room: string): void {
    if (!this.byPeer.get(peer)?.delete(room)) return
    if (this.file && !this.lazy) {
      this.lazy = setTimeout(() => {
        this.lazy = null
        this.save()
      }, 200)
      this.lazy.unref()
    }
  }

  /** Writes the record now (and cancels a pending lazy write). */
  save(): void {
    if (this.lazy) {
      clearTimeout(this.lazy)
      this.lazy = null
    }
    if (!this.file) return
    const stored: Stored = { version: 1, dirty: Object.fromEntries([...this.byPeer].map(([p, rooms]) => [p, [...rooms]])) }
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(stored))
      renameSync(`${this.file}.tmp`, this.file)
    } catch (err) {
      this.logger.error({ err, file: this.file }, 'writing the dirty-room record failed')
    }
  }
}
