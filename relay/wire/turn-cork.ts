/**
 * Coalescing writes per turn of the event loop, without delaying the first one: the first
 * frame sent to a client socket in a turn is written at once; a second frame to the same
 * socket in the same turn corks it, and one `setImmediate` uncorks every corked socket, so
 * the rest of a burst (updates of several writers, a catch-up, awareness, acks) leaves in one
 * `writev` system call instead of one each. Frames stay separate WebSocket messages — stock
 * clients read one message per frame — so nothing is merged or re-encoded.
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
  /** The turn this socket was last written to, and the turn it was last corked in. */
  [WRITTEN]?: number
  [CORKED]?: number
}

const WRITTEN = Symbol('tandem.writtenInTurn')
const CORKED = Symbol('tandem.corkedInTurn')

/**
 * The current turn, and the sockets corked in it. Marks on the sockets and one reused array,
 * not sets filled and cleared every turn: a set's table reallocated per turn showed up as the
 * largest source of garbage promoted to the old generation under load (sampling heap profile).
 */
let turn = 0
const corked: Corkable[] = []
let scheduled = false

function endTurn(): void {
  scheduled = false
  turn++
  for (const socket of corked) if (!socket.destroyed) socket.uncork()
  corked.length = 0
}

/** Call before sending a frame on `ws`: corks its socket until the end of the turn from its second frame in this turn on. */
export function coalesceTurnWrites(ws: WebSocket): void {
  const socket = (ws as unknown as { _socket?: Partial<Corkable> })._socket
  if (!socket || typeof socket.cork !== 'function' || typeof socket.uncork !== 'function') return
  const s = socket as Corkable
  if (s[WRITTEN] !== turn) {
    s[WRITTEN] = turn
    if (!scheduled) {
      scheduled = true
      setImmediate(endTurn)
    }
    return
  }
  if (s[CORKED] === turn) return
  s[CORKED] = turn
  s.cork()
  corked.push(s)
}
