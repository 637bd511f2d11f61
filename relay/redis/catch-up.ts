/**
 * The waiting side of a Redis catch-up. A relay that attaches a room asks on the global ask
 * stream with its state vector and its delete-set fingerprint, and an ask id; every live relay
 * answers into the room's stream when it holds more (structs the asker lacks, or a delete set
 * whose fingerprint differs), then replies on the asker's wake stream with where its answer is
 * (or that it has none). The asker is caught up once every live relay replied (or the wait ran
 * out) and its read of the room's stream passed every answer and the stream's end.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { compareStreamIds } from './keys.ts'

/** The part of a room the fingerprint reads. */
export interface DeleteSetSource {
  stateVector(): Uint8Array
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
}

/**
 * A fingerprint of a room's delete set: the hash of its update holding no structs, only the
 * delete set (deletions do not move a state vector; two copies with equal state vectors and
 * equal fingerprints hold the same document).
 */
export function deleteSetFingerprint(room: DeleteSetSource): string {
  return createHash('sha256').update(room.encodeStateAsUpdate(room.stateVector())).digest('base64url').slice(0, 22)
}

interface Ask {
  waiting: Set<string>
  positions: string[]
  done: () => void
}

/** Asks this relay made and waits on: which relays still have to reply. */
export class PendingAsks {
  private readonly asks = new Map<string, Ask>()

  /** Resolves with the stream ids of the answers once each of `expected` replied, or after `timeoutMs` with those that did. */
  wait(id: string, expected: Iterable<string>, timeoutMs: number): Promise<{ positions: string[]; missing: string[] }> {
    return new Promise((resolve) => {
      const ask: Ask = { waiting: new Set(expected), positions: [], done: () => undefined }
      const timer = setTimeout(() => ask.done(), timeoutMs)
      timer.unref()
      ask.done = () => {
        clearTimeout(timer)
        this.asks.delete(id)
        resolve({ positions: ask.positions, missing: [...ask.waiting] })
      }
      this.asks.set(id, ask)
      if (ask.waiting.size === 0) ask.done()
    })
  }

  /** `from` replied to ask `id`; `pos` is where its answer is in the room's stream ('' for none). */
  reply(id: string, from: string, pos: string): void {
    const ask = this.asks.get(id)
    if (!ask) return
    if (pos !== '') ask.positions.push(pos)
    ask.waiting.delete(from)
    if (ask.waiting.size === 0) ask.done()
  }

  /** Ends every wait now (the relay stops, or Redis came back empty). */
  cancelAll(): void {
    for (const ask of [...this.asks.values()]) ask.done()
  }
}

/** Waits until a room's read of its stream passed a position. */
export class PositionWaits {
  private readonly waits = new Map<string, Array<{ target: string; done: (reached: boolean) => void }>>()

  /** Resolves true once {@link advanced} reports `room` at or past `target` (at once if `current` is), false after `timeoutMs`. */
  wait(room: string, current: string, target: string, timeoutMs: number): Promise<boolean> {
    if (compareStreamIds(current, target) >= 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const list = this.waits.get(room) ?? []
      this.waits.set(room, list)
      const entry = {
        target,
        done: (reached: boolean) => {
          clearTimeout(timer)
          const rest = (this.waits.get(room) ?? []).filter((w) => w !== entry)
          if (rest.length > 0) this.waits.set(room, rest)
          else this.waits.delete(room)
          resolve(reached)
        },
      }
      const timer = setTimeout(() => entry.done(false), timeoutMs)
      timer.unref()
      list.push(entry)
    })
  }

  /** `room`'s read reached `pos`. */
  advanced(room: string, pos: string): void {
    const list = this.waits.get(room)
    if (!list) return
    for (const w of [...list]) if (compareStreamIds(pos, w.target) >= 0) w.done(true)
  }

  /** Ends every wait on `room` (unloaded), or on every room, as not reached. */
  cancel(room?: string): void {
    const lists = room === undefined ? [...this.waits.values()] : [this.waits.get(room) ?? []]
    for (const list of lists) for (const w of [...list]) w.done(false)
  }
}
