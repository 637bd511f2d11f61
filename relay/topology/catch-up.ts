/**
 * Anti-entropy decisions for a (re)connected link, as pure functions over digests.
 *
 * On every link up, each side sends a digest: (room, state vector, flags) for every room
 * it stores. Each side then answers the other's digest with, per room, exactly what the
 * other lacks (`Y.encodeStateAsUpdate(doc, theirStateVector)`). Rooms whose state vectors
 * are equal are neither loaded nor sent, unless flagged `force` or their delete-set
 * fingerprints differ: Yjs deletions do not move a state vector, so a room that changed while
 * the link was down (or, for a peer not yet seen by this process, since it started) is
 * exchanged with its delete set once, and so is a room whose deletions differ for any other
 * reason (a relay restored from an old copy of its data).
 *
 * @module
 */
import * as Y from 'yjs'
import { DIGEST_FLAG_FORCE, type DigestEntry } from './peer-protocol.ts'

/** A decoded state vector: client id → next expected clock. */
export type StateVector = Map<number, number>

export function decodeSV(sv: Uint8Array | null | undefined): StateVector {
  return sv && sv.length > 0 ? Y.decodeStateVector(sv) : new Map()
}

/** True when `have` holds every struct described by `need`. */
export function covers(have: StateVector, need: StateVector): boolean {
  for (const [client, clock] of need) {
    if ((have.get(client) ?? 0) < clock) return false
  }
  return true
}

/** The clocks an update reaches (its structs' ends per client); empty for delete-only updates. */
export function reachOf(update: Uint8Array): StateVector {
  return Y.parseUpdateMeta(update).to
}

/** True when both sides know the room's delete-set fingerprint and the two differ. */
export function deletesDiffer(mine: DigestEntry, theirs: DigestEntry | undefined): boolean {
  const a = mine.deletes
  const b = theirs?.deletes
  if (!a || !b || a.length === 0 || b.length === 0) return false
  return a.length !== b.length || a.some((x, i) => x !== b[i])
}

/** One room to answer: send `encodeStateAsUpdate(doc, theirStateVector)`. */
export interface CatchUpSend {
  room: string
  theirStateVector: Uint8Array
}

/**
 * Rooms for which `mine` has something `theirs` lacks (or either side flagged force).
 * Rooms only they have are theirs to send; rooms equal on both sides are skipped.
 */
export function roomsToSend(
  mine: readonly DigestEntry[], theirs: readonly DigestEntry[], theirsComplete = true,
): CatchUpSend[] {
  const theirByRoom = new Map(theirs.map((e) => [e.room, e]))
  const out: CatchUpSend[] = []
  for (const entry of mine) {
    const other = theirByRoom.get(entry.room)
    // A partial digest says nothing about the rooms it does not list.
    if (!other && !theirsComplete) continue
    const theirSV = other?.stateVector ?? new Uint8Array([0])
    const forced = ((entry.flags | (other?.flags ?? 0)) & DIGEST_FLAG_FORCE) !== 0
    if (forced || deletesDiffer(entry, other) || !covers(decodeSV(theirSV), decodeSV(entry.stateVector))) {
      out.push({ room: entry.room, theirStateVector: theirSV })
    }
  }
  return out
}
