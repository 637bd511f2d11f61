/**
 * The version marks one relay holds (version-marks.ts): every room's, in memory without their
 * states (they are few: named versions, restores, tombstones) and in the history store with them;
 * the listeners (the replicating edges) that hear each change. The history (history-extension.ts)
 * decides what to write; this module keeps it and answers the edges' reads.
 *
 * @module
 */
import type { Logger } from 'pino'
import type { HistoryKv } from './history-kv.ts'
import { MARKS_BUCKET, markState, putMark } from './history-store.ts'
import { decodeMark, encodeMark, keyOf, type MarkKey, type MarkSource, type VersionMark } from './version-marks.ts'

type Listener = (encoded: Uint8Array, key: MarkKey, source: MarkSource) => void

/** The marks of every room of one relay. */
export class MarkBook {
  /** room → version id → mark (without its state). */
  private readonly marks = new Map<string, Map<string, VersionMark>>()
  private readonly listeners = new Set<Listener>()

  private constructor(
    private readonly kv: HistoryKv,
    /** Largest mark shared (state included): `--max-message-bytes`. */
    readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Reads every stored mark (an unreadable one is logged and skipped). */
  static async open(kv: HistoryKv, maxBytes: number, logger: Logger): Promise<MarkBook> {
    const book = new MarkBook(kv, maxBytes, logger)
    for (const [, bytes] of await kv.list(MARKS_BUCKET)) {
      try {
        book.hold(decodeMark(bytes, Number.MAX_SAFE_INTEGER, () => true))
      } catch (error) {
        logger.error({ err: error }, 'history: a stored version mark does not decode; ignored')
      }
    }
    return book
  }

  /** The mark held for version `id` of `room`. */
  get(room: string, id: string): VersionMark | undefined {
    return this.marks.get(room)?.get(id)
  }

  /** The marks held for `room`. */
  of(room: string): ReadonlyMap<string, VersionMark> | undefined {
    return this.marks.get(room)
  }

  /** A decision time later than the held mark's, so a decision made here supersedes it. */
  decisionTime(room: string, id: string): number {
    return Math.max(Date.now(), (this.get(room, id)?.at ?? 0) + 1)
  }

  /** Stores `mark` with its state (null: none), and tells the listeners (unless it is too large to share). */
  async write(mark: VersionMark, state: Uint8Array | null, source: MarkSource): Promise<void> {
    await this.kv.write(putMark(mark.room, mark.id, encodeMark(mark, false), state))
    this.hold(mark)
    if (this.listeners.size === 0) return
    const encoded = encodeMark({ ...mark, ...(state ? { state } : {}) })
    if (encoded.byteLength > this.maxBytes) {
      this.logger.warn({ room: mark.room, version: mark.id, bytes: encoded.byteLength, max: this.maxBytes }, 'history: a version is larger than --max-message-bytes: not shared with the cluster')
      return
    }
    for (const listener of this.listeners) listener(encoded, keyOf(mark), source)
  }

  /** Forgets the marks of `room` that `expired` picks (not tombstoned: every relay forgets them alike). */
  async forget(room: string, expired: (mark: VersionMark) => boolean): Promise<void> {
    const marks = this.marks.get(room)
    if (!marks) return
    const gone = [...marks.values()].filter(expired)
    if (gone.length === 0) return
    await this.kv.write(gone.flatMap((m) => putMark(room, m.id, null, null)))
    for (const m of gone) marks.delete(m.id)
  }

  /** The stored state of a live mark. */
  state(room: string, id: string): Promise<Uint8Array | undefined> {
    return markState(this.kv, room, id)
  }

  keys(): MarkKey[] {
    const out: MarkKey[] = []
    for (const marks of this.marks.values()) for (const mark of marks.values()) out.push(keyOf(mark))
    return out
  }

  async read(keys: ReadonlyArray<Pick<MarkKey, 'room' | 'id'>>): Promise<Array<{ key: MarkKey; encoded: Uint8Array }>> {
    const out: Array<{ key: MarkKey; encoded: Uint8Array }> = []
    for (const { room, id } of keys) {
      const mark = this.get(room, id)
      if (!mark) continue
      const state = mark.removed ? undefined : await this.state(room, id)
      if (!mark.removed && !state) continue
      const encoded = encodeMark({ ...mark, ...(state ? { state } : {}) })
      if (encoded.byteLength <= this.maxBytes) out.push({ key: keyOf(mark), encoded })
    }
    return out
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private hold(mark: VersionMark): void {
    let marks = this.marks.get(mark.room)
    if (!marks) this.marks.set(mark.room, (marks = new Map()))
    const { state: _state, ...held } = mark
    marks.set(mark.id, held)
  }
}
