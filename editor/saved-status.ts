import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import type { WebsocketProvider } from 'y-websocket'

import { MESSAGE_SAVED, isSaved, readSaved, type SavedAck } from '../relay/protocol.ts'

/** Wire message type of the relay's durability acknowledgement (relay/protocol.ts). */
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
    const pending = !isSaved(this.doc, this.persisted)
    const next: SavedState = !pending ? 'saved' : this.provider.wsconnected ? 'saving' : 'local only'
    if (next !== this.current) {
      this.current = next
      this.onChange(next)
    }
  }

  /** Stops listening; the provider's handler slot is cleared. */
  destroy(): void {
    this.provider.off('status', this.onStatus)
    this.doc.off('update', this.onUpdate)
    delete this.provider.messageHandlers[MESSAGE_SAVED]
  }
}
