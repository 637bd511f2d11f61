/**
 * Replication lag of one peer: updates sent and not yet covered by the peer's persisted
 * state vector (its `ack` frames), and the age of the oldest.
 *
 * @module
 */
import { covers, decodeSV, reachOf, type StateVector } from './catch-up.ts'

interface Pending {
  reach: StateVector
  sentAt: number
}

/** Bound on tracked updates per peer; beyond it the oldest are counted but not kept. */
export const MAX_TRACKED = 10_000

export class LagTracker {
  private readonly byRoom = new Map<string, Pending[]>()
  private count = 0
  /** Updates dropped from tracking because of {@link MAX_TRACKED}. */
  overflow = 0

  /** Records an update sent to the peer at time `now` (ms). */
  sent(room: string, update: Uint8Array, now: number): void {
    if (this.count >= MAX_TRACKED) {
      this.overflow++
      return
    }
    let list = this.byRoom.get(room)
    if (!list) this.byRoom.set(room, (list = []))
    list.push({ reach: reachOf(update), sentAt: now })
    this.count++
  }

  /** The peer persisted `stateVector` for `room`: drop everything it covers. */
  acked(room: string, stateVector: Uint8Array): void {
    const list = this.byRoom.get(room)
    if (!list) return
    const have = decodeSV(stateVector)
    const left = list.filter((p) => !covers(have, p.reach))
    this.count -= list.length - left.length
    if (left.length === 0) this.byRoom.delete(room)
    else this.byRoom.set(room, left)
  }

  /** Updates sent and not yet acknowledged. */
  get unacked(): number {
    return this.count
  }

  /** Age in ms of the oldest unacknowledged update, 0 when none. */
  oldestAgeMs(now: number): number {
    let oldest = Infinity
    for (const list of this.byRoom.values()) {
      const first = list[0]
      if (first && first.sentAt < oldest) oldest = first.sentAt
    }
    return oldest === Infinity ? 0 : now - oldest
  }

  /** Rooms whose oldest unacknowledged update was sent before `before` (ms). */
  staleRooms(before: number): string[] {
    const out: string[] = []
    for (const [room, list] of this.byRoom) if ((list[0]?.sentAt ?? Infinity) < before) out.push(room)
    return out
  }

  /** Rooms with unacknowledged updates (to re-check on reconnect). */
  rooms(): string[] {
    return [...this.byRoom.keys()]
  }

  /** Forget everything (the link went down; catch-up takes over). */
  clear(): void {
    this.byRoom.clear()
    this.count = 0
  }
}
