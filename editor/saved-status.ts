import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import type { WebsocketProvider } from 'y-websocket'

import { MESSAGE_SAVED, addDeletions, isSaved, mergeDeleted, readSaved, type DeletedRanges, type SavedAck } from '../relay/wire/protocol.ts'

/** Wire message type of the relay's durability acknowledgement (relay/wire/protocol.ts). */
export { MESSAGE_SAVED }

/**
 * Whether this tab's document is durable on the relay:
 * - `saved`: every change this tab holds is durably stored on the relay: its state vector is
 *   covered by the persisted one and every deletion by the persisted delete set;
 * - `saving`: connected, some changes are not yet acknowledged as written to disk;
 * - `local only`: not connected and some changes exist only in this browser (IndexedDB).
 */
export type SavedState = 'saved' | 'saving' | 'local only'

/**
 * Tracks {@link SavedState} for one provider: subscribes to the relay's type-100 saved
 * acknowledgements on every (re)connection and compares the persisted state vector and delete
 * set with the document's own (`isSaved`). A relay that does not speak the extension never
 * answers, and the state stays `saving` while connected; one that sends no delete set confirms
 * no deletion, so a document holding deletions stays `saving` with it.
 */
export class SavedTracker {
  private persisted: SavedAck = { stateVector: new Map(), deleteSet: null }
  private current: SavedState = 'saved'
  private readonly onStatus: (event: { status: string }) => void
  private readonly onUpdate: () => void
  /** The doc's deletions as last computed (null: walk the store), and the transactions' since. */
  private deletions: DeletedRanges | null = null
  private deletionsSince: Array<Y.Transaction['deleteSet']> = []
  private readonly onTransaction = (transaction: Y.Transaction): void => {
    if (!this.deletions || transaction.deleteSet.clients.size === 0) return
    this.deletionsSince.push(transaction.deleteSet)
    if (this.deletionsSince.length > 1024) {
      this.deletions = null // long unacknowledged (offline): walk the store when asked instead
      this.deletionsSince = []
    }
  }

  constructor(
    private readonly provider: WebsocketProvider,
    private readonly doc: Y.Doc,
    private readonly onChange: (state: SavedState) => void,
  ) {
    provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      try {
        this.persisted = readSaved(decoder)
      } catch {
        return // a malformed acknowledgement confirms nothing
      }
      this.recompute()
    }
    this.onStatus = ({ status }) => {
      if (status === 'connected') this.subscribe()
      this.recompute()
    }
    this.onUpdate = () => this.recompute()
    provider.on('status', this.onStatus)
    doc.on('afterTransaction', this.onTransaction)
    doc.on('update', this.onUpdate)
    if (provider.wsconnected) this.subscribe()
    this.recompute()
  }

  /** The current state. */
  get state(): SavedState {
    return this.current
  }

  private subscribe(): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_SAVED)
    encoding.writeVarUint(encoder, 0)
    this.provider.ws?.send(encoding.toUint8Array(encoder))
  }

  private recompute(): void {
    const pending = !isSaved(this.doc, this.persisted, () => this.docDeletions())
    const next: SavedState = !pending ? 'saved' : this.provider.wsconnected ? 'saving' : 'local only'
    if (next !== this.current) {
      this.current = next
      this.onChange(next)
    }
  }

  /** The doc's delete set: one walk of the store, then only the new transactions' merged in. */
  private docDeletions(): DeletedRanges {
    if (!this.deletions) this.deletions = mergeDeleted([Y.createDeleteSetFromStructStore(this.doc.store)])
    else if (this.deletionsSince.length > 0) addDeletions(this.deletions, this.deletionsSince)
    this.deletionsSince = []
    return this.deletions
  }

  /** Stops listening; the provider's handler slot is cleared. */
  destroy(): void {
    this.provider.off('status', this.onStatus)
    this.doc.off('afterTransaction', this.onTransaction)
    this.doc.off('update', this.onUpdate)
    delete this.provider.messageHandlers[MESSAGE_SAVED]
  }
}
