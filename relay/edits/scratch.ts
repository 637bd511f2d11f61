/**
 * The scratch copies JSON edits run on, kept per room between requests. Copying a room's whole
 * document for every request costs time and garbage in proportion to the document (about 150 ms
 * of CPU for a 475,000-character room, `npm run bench:patch`), all of it on the event loop every
 * room shares. A kept copy is brought up to date with only what the room gained since the last
 * edit (the update for the copy's state vector: new structs and the delete set), so a request
 * costs about what its ops cost.
 *
 * The copy is exactly the room's document plus nothing else: it is dropped when an op is refused
 * (the ops before it already changed it) and when the room does not take the update, so a
 * refused request leaves no trace in the next one. A copy unused for {@link SCRATCH_IDLE_MS} is
 * dropped (copies are keyed by the room object: a room loaded again gets a new copy).
 *
 * @module
 */
import * as Y from 'yjs'
import type { EditOp } from './ops.ts'
import { EDIT_CLIENT_ID, runEdit } from './apply.ts'

/** A copy unused this long (ms) is dropped. */
export const SCRATCH_IDLE_MS = 30_000

/** What a scratch copy is read from: a room (its whole state, or what a state vector lacks). */
export interface EditSource {
  encodeStateAsUpdate(sv?: Uint8Array): Uint8Array
}

interface Scratch {
  doc: Y.Doc
  timer: NodeJS.Timeout
}

/** The kept scratch copies of the rooms JSON edits were made in. */
export class EditScratches {
  private readonly copies = new WeakMap<EditSource, Scratch>()

  constructor(private readonly idleMs = SCRATCH_IDLE_MS) {}

  /**
   * Runs `ops` on `source`'s copy (made or brought up to date first) and gives the update they
   * made to `apply`, the room's own door; returns false when they changed nothing. Whatever
   * throws (a refused op, a refused update) drops the copy and is rethrown.
   */
  edit(source: EditSource, ops: readonly EditOp[], apply: (update: Uint8Array) => void, clientID = EDIT_CLIENT_ID): boolean {
    let scratch = this.copies.get(source)
    try {
      if (scratch) {
        Y.applyUpdate(scratch.doc, source.encodeStateAsUpdate(Y.encodeStateVector(scratch.doc)))
      } else {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, source.encodeStateAsUpdate())
        scratch = { doc, timer: setTimeout(() => this.drop(source), this.idleMs).unref() }
        this.copies.set(source, scratch)
      }
      const update = runEdit(scratch.doc, ops, clientID)
      if (update) apply(update)
      scratch.timer.refresh()
      return update !== null
    } catch (error) {
      this.drop(source)
      throw error
    }
  }

  /** Whether `source` has a kept copy (for tests). */
  has(source: EditSource): boolean {
    return this.copies.has(source)
  }

  private drop(source: EditSource): void {
    const scratch = this.copies.get(source)
    if (!scratch) return
    clearTimeout(scratch.timer)
    scratch.doc.destroy()
    this.copies.delete(source)
  }
}
