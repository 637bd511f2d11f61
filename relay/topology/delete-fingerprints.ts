/**
 * A fingerprint of each room's delete set, carried in the catch-up digest beside its state
 * vector. Yjs deletions do not move a state vector, so two relays with equal vectors may
 * still differ in what is deleted — for example a relay restored from an old copy of its data
 * directory, taken after some text was typed and before it was deleted. The dirty-room record
 * covers changes made while a link was down; the fingerprint covers everything else: when both
 * sides know a room's fingerprint and they differ, the room is exchanged with its delete set.
 *
 * The fingerprint is the first 8 bytes of SHA-256 over the room's delete set as Yjs encodes it
 * (`encodeStateAsUpdate(doc, its own state vector)`: no structs, the delete set sorted and
 * merged from the struct store, so equal deletions give equal bytes on every replica).
 *
 * Computing it needs the room's document, so fingerprints are cached: an update to a room
 * drops its entry, a room about to be unloaded (or still loaded at a clean stop) is
 * fingerprinted from its live doc, and a digest computes what is still missing (from the live
 * room, or by loading it: only rooms never fingerprinted here, or after an unclean stop). The cache is written to a file beside the relay's data at a clean stop and
 * trusted at the next start only if that stop was clean (`clean: true`, cleared on start), so a
 * crash never leaves a fingerprint older than the data it describes.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { RecordFile } from '../storage/record-file.ts'

export const FINGERPRINT_BYTES = 8

interface Stored {
  version: 1
  clean: boolean
  rooms: Record<string, string>
}

/** A room as the fingerprint needs it. */
export interface FingerprintRoom {
  readonly name: string
  stateVector(): Uint8Array
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
}

/** The fingerprint of `room`'s delete set. */
export function deleteSetFingerprint(room: FingerprintRoom): Uint8Array {
  const deletesOnly = room.encodeStateAsUpdate(room.stateVector())
  return new Uint8Array(createHash('sha256').update(deletesOnly).digest().subarray(0, FINGERPRINT_BYTES))
}

export class DeleteFingerprints {
  private readonly cache = new Map<string, Uint8Array>()
  private readonly record: RecordFile<Stored>

  constructor(file: string | undefined, logger: Logger) {
    this.record = new RecordFile<Stored>(file, logger, 'delete-set fingerprints')
    const stored = this.record.read() // unreadable: everything is recomputed when needed
    if (stored?.version === 1 && stored.clean) {
      for (const [room, hex] of Object.entries(stored.rooms ?? {})) {
        if (typeof hex === 'string' && /^[0-9a-f]{16}$/.test(hex)) this.cache.set(room, new Uint8Array(Buffer.from(hex, 'hex')))
      }
    } else if (stored) {
      logger.info({ file }, 'delete-set fingerprints not trusted after an unclean stop: recomputed on the next catch-up')
    }
    this.write(false)
  }

  /** The cached fingerprint of `room`, if it is known and current. */
  get(room: string): Uint8Array | undefined {
    return this.cache.get(room)
  }

  /** Computes, caches and returns `room`'s fingerprint from its document. */
  compute(room: FingerprintRoom): Uint8Array {
    const fp = deleteSetFingerprint(room)
    this.cache.set(room.name, fp)
    return fp
  }

  /** `room` changed: its fingerprint is recomputed when next needed. */
  invalidate(room: string): void {
    this.cache.delete(room)
  }

  /** At a clean stop: every current fingerprint, trusted at the next start. */
  save(): void {
    this.write(true)
  }

  private write(clean: boolean): void {
    const rooms = clean ? Object.fromEntries([...this.cache].map(([r, fp]) => [r, Buffer.from(fp).toString('hex')])) : {}
    this.record.write({ version: 1, clean, rooms })
  }
}
