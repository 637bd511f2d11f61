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
import type { Logger } from 'pino'
import { RecordFile } from '../storage/record-file.ts'

interface Stored {
  version: 1
  dirty: Record<string, string[]>
}

/** The dirty-room record of one relay. */
export class DirtyRooms {
  private readonly byPeer = new Map<string, Set<string>>()
  private readonly record: RecordFile<Stored>

  constructor(file: string | undefined, logger: Logger) {
    this.record = new RecordFile<Stored>(file, logger, 'dirty-room record')
    const stored = this.record.read()
    if (!stored) return
    for (const [peer, rooms] of Object.entries(stored.dirty ?? {})) if (Array.isArray(rooms)) this.byPeer.set(peer, new Set(rooms))
    logger.info({ file, peers: this.byPeer.size }, 'restored rooms changed while links were down')
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
    if (this.byPeer.get(peer)?.delete(room)) this.record.writeSoon(() => this.stored())
  }

  /** Writes the record now (and cancels a pending lazy write). */
  save(): void {
    this.record.write(this.stored())
  }

  private stored(): Stored {
    return { version: 1, dirty: Object.fromEntries([...this.byPeer].map(([p, rooms]) => [p, [...rooms]])) }
  }
}
