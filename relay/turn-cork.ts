/**
 * Coalescing writes per turn of the event loop: the first frame sent to a client socket in a
 * turn corks the socket, and one `setImmediate` uncorks every corked socket, so all frames a
 * client gets in that turn (updates of several writers, awareness, acks) leave in one `writev`
 * system call instead of one each. Frames stay separate WebSocket messages — stock clients
 * read one message per frame — so nothing is merged or re-encoded.
 *
 * `ws` keeps its socket in the undocumented `_socket` field; when it is not a corkable socket
 * (another `ws` version), frames are written as before.
 *
 * @module
 */
import type { WebSocket } from 'ws'

interface Corkable {
  cork(): void
  uncork(): void
  destroyed: boolean
}

const corked = new Set<Corkable>()
let scheduled = false

function uncorkAll(): void {
  scheduled = false
  for (const socket of corked) if (!socket.destroyed) socket.uncork()
  corked.clear()
}

/** Corks `ws`'s socket until the end of this turn of the event loop (once per turn). */
export function corkUntilTurnEnd(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: Partial<Corkable> })._socket
  if (!socket || typeof socket.cork !== 'function' || typeof socket.uncork !== 'function') return
  if (corked.has(socket as Corkable)) return
  socket.cork()
  corked.add(socket as Corkable)
  if (!scheduled) {
    scheduled = true
    setImmediate(uncorkAll)
  }
}
