/**
 * What the Redis edge keeps beside the relay's data (file `redis-edge.json` in `--data`), so a
 * kill -9 loses none of it:
 *
 * - the rooms with updates that may not have reached Redis (acknowledged while Redis was away,
 *   or stored while their append to the stream was still in flight): written synchronously the
 *   moment a room is added — before the room's batch is acknowledged — and republished on the
 *   next connection whether or not the room is open; removals are written lazily (a stale entry
 *   costs one extra republish);
 * - the lineage of the data directory: a number bumped (synchronously) before every round of
 *   read positions recorded in Redis, and recorded there after them. A data directory whose
 *   lineage is below the one Redis holds for this relay was restored from an older copy: its
 *   read positions claim more than it holds.
 *
 * Without a data directory (memory storage) the state lives in memory only.
 *
 * @module
 */
import type { Logger } from 'pino'
import { RecordFile } from '../storage/record-file.ts'

interface Stored {
  version: 1
  unpublished: string[]
  lineage: number
}

export class EdgeState {
  private readonly rooms = new Set<string>()
  private seq = 0
  private readonly record: RecordFile<Stored>

  constructor(file: string | undefined, logger: Logger) {
    this.record = new RecordFile<Stored>(file, logger, 'Redis edge state')
    const stored = this.record.read()
    if (!stored) return
    for (const room of Array.isArray(stored.unpublished) ? stored.unpublished : []) if (typeof room === 'string') this.rooms.add(room)
    this.seq = Number.isSafeInteger(stored.lineage) ? stored.lineage : 0
    if (this.rooms.size > 0) logger.info({ file, rooms: this.rooms.size }, 'restored rooms with updates not yet in Redis')
  }

  /** Rooms with updates that may not be in Redis. */
  unpublished(): string[] {
    return [...this.rooms]
  }

  has(room: string): boolean {
    return this.rooms.has(room)
  }

  /** Records `room` (written before returning when new). */
  mark(room: string): void {
    if (this.rooms.has(room)) return
    this.rooms.add(room)
    this.save()
  }

  /** Records every room of `rooms` in one write. */
  markAll(rooms: Iterable<string>): void {
    const before = this.rooms.size
    for (const room of rooms) this.rooms.add(room)
    if (this.rooms.size !== before) this.save()
  }

  /** `room` was published. */
  clear(room: string): void {
    if (this.rooms.delete(room)) this.record.writeSoon(() => this.stored())
  }

  /** The data directory's lineage. */
  lineage(): number {
    return this.seq
  }

  /** Bumps the lineage past `atLeast` and writes it before returning; returns the new value. */
  bumpLineage(atLeast = 0): number {
    this.seq = Math.max(this.seq, atLeast) + 1
    this.save()
    return this.seq
  }

  /** Writes now (and cancels a pending lazy write). */
  save(): void {
    this.record.write(this.stored())
  }

  private stored(): Stored {
    return { version: 1, unpublished: [...this.rooms], lineage: this.seq }
  }
}
