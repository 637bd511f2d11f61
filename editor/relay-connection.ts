import type * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'

/** Connection state of the editor's link to a relay. */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected'

/** Options of {@link connectToRelays}. */
export interface RelayConnectionOptions {
  /** Sent as the `token` query parameter on every connection attempt. */
  token?: string | undefined
  /** Start connected (default) or in "work offline" mode. */
  connect: boolean
  /** Upper bound of the reconnect backoff in milliseconds (default 2000). */
  maxBackoffMs?: number | undefined
}

/**
 * Opens a y-websocket provider for `room` on the first of `urls` and fails over to the next
 * relay whenever a connection closes (refused, dropped, or the relay went away), going round
 * the list. The provider, and so the Y.Doc and everything typed into it, stays the same across
 * fail-overs: the next relay is simply sent sync step 1 with the full local state vector.
 * BroadcastChannel sync between tabs is disabled so that "work offline" really takes this tab
 * off the network (tabs of one browser still meet through the relay).
 */
export function connectToRelays(
  urls: readonly string[],
  room: string,
  doc: Y.Doc,
  awareness: Awareness,
  options: RelayConnectionOptions,
): WebsocketProvider {
  const list = urls.map((u) => u.replace(/\/+$/, ''))
  const first = list[0]
  if (first === undefined) throw new TypeError('mountEditor: at least one relay url is required')
  const provider = new WebsocketProvider(first, room, doc, {
    connect: false,
    awareness,
    params: options.token === undefined ? {} : { token: options.token },
    maxBackoffTime: options.maxBackoffMs ?? 2000,
    disableBc: true,
  })
  if (list.length > 1) {
    let index = 0
    provider.on('connection-close', () => {
      index = (index + 1) % list.length
      provider.serverUrl = list[index] ?? first
    })
  }
  keepPresenceFresh(provider, awareness)
  if (options.connect) provider.connect()
  return provider
}

/**
 * Makes presence survive reconnects. Awareness only accepts a state whose clock is newer than
 * the last one seen, so after a disconnect (where y-websocket drops everyone else's state
 * locally, and the relay drops ours for everyone else) unchanged states would be refused on
 * both sides until their 15-second renewal. So: on disconnect, forget the clocks of the
 * clients we dropped; on connect, re-publish our own state with a new clock.
 */
function keepPresenceFresh(provider: WebsocketProvider, awareness: Awareness): void {
  provider.on('status', ({ status }) => {
    if (status === 'disconnected') {
      for (const client of [...awareness.meta.keys()]) {
        if (client !== awareness.clientID && !awareness.states.has(client)) awareness.meta.delete(client)
      }
    } else if (status === 'connected') {
      awareness.setLocalState(awareness.getLocalState())
    }
  })
}
