import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import type { WebsocketProvider } from 'y-websocket'

import { MESSAGE_SAVED } from '../relay/protocol.ts'

/** Wire message type of the relay's durability acknowledgement (relay/protocol.ts). */
export { MESSAGE_SAVED }

/**
 * Whether this tab's document is durable on the relay:
 * - `saved`: every change this tab holds is in the relay's persisted state vector;
 * - `saving`: connected, some changes are not yet acknowledged as written to disk;
 * - `local only`: not connected and some changes exist only in this browser (IndexedDB).
 */
export type SavedState = 'saved' | 'saving' | 'local only'

/**
 * Tracks {@link SavedState} for one provider: subscribes to the relay's type-100 saved
 * acknowledgements on every (re)connection and compares the persisted state vector with the
 * document's own. A relay that does not speak the extension never answers, and the state
 * stays `saving` while connected.
 */
export class SavedTracker {
  private persisted = new Map<number, number>()
  private current: SavedState = 'saved'
  private readonly onStatus: (event: { status: string }) => void
  private readonly onUpdate: () => void

  constructor(
    private readonly provider: WebsocketProvider,
    private readonly doc: Y.Doc,
    private readonly onChange: (state: SavedState) => void,
  ) {
    provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      this.persisted = Y.decodeStateVector(decoding.readVarUint8Array(decoder))
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
    let pending = false
    for (const [client, clock] of this.doc.store.clients) {
      const last = clock[clock.length - 1]
      const local = last === undefined ? 0 : last.id.clock + last.length
      if ((this.persisted.get(client) ?? 0) < local) {
        pending = true
        break
      }
    }
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
