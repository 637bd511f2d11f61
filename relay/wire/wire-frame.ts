/**
 * Encoding each outgoing WebSocket frame once for all its receivers. A relay sends the same
 * message to every client of a room; `ws.send` would build a frame header (and an options
 * object, and two socket writes) per receiver. Server-to-client frames are not masked, so the
 * bytes on the wire are the same for every receiver: the first send of a message frames it
 * once (`ws`'s own `Sender.frame`, header and payload joined in one buffer), and every later
 * send of the same message writes that buffer to the receiver's socket.
 *
 * Only for small messages (updates, awareness, acks: the forwarding path). A message of
 * {@link FRAME_ONCE_LIMIT} bytes or more (a joining client's whole document, say) goes through
 * `ws.send`, which writes header and payload without copying the payload, and is not kept.
 *
 * It uses `ws` internals (`_socket`, `_extensions`, and the sender's `_state` and `_queue`) and
 * only when it is safe: no extension negotiated (no permessage-deflate, so the payload goes out
 * as it is) and nothing queued in the sender (the frame cannot overtake another). Otherwise, or
 * with another `ws` version lacking these fields, the frame goes through `ws.send` as before.
 *
 * @module
 */
import * as wsModule from 'ws'
import type { WebSocket } from 'ws'

/** `ws`'s frame encoder (exported by `ws`, not declared by @types/ws). */
const { Sender } = wsModule as unknown as { Sender?: { frame?(data: Buffer, options: typeof FRAME_OPTIONS): Buffer[] } }
const frame = Sender?.frame?.bind(Sender)

interface Internals {
  _socket?: { write(chunk: Uint8Array): boolean; destroyed: boolean }
  _sender?: { _state?: number; _queue?: unknown[] }
  /** Negotiated extensions by name (`ws.extensions` joins their names: a string per call). */
  _extensions?: Record<string, unknown>
}

/** Messages this long or longer are sent by `ws.send` (no copy of the payload). */
export const FRAME_ONCE_LIMIT = 64 * 1024

const SEND_OPTIONS = { binary: true } as const
/** A final, unmasked binary frame: what a server sends. */
const FRAME_OPTIONS = { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false } as const
/** `ws`'s Sender state when it writes frames at once (no deflate, no blob being read). */
const SENDER_IDLE = 0

/** The last message framed, and its frame: one entry is enough, a broadcast sends one message to every receiver in a row. */
let lastPayload: Uint8Array | null = null
let lastWire: Buffer | null = null

/** Whether no extension was negotiated (false when that cannot be told). */
function noExtensions(extensions: Record<string, unknown> | undefined): boolean {
  if (!extensions) return false
  for (const _ in extensions) return false
  return true
}

/** Sends `payload` as one binary message on `ws` (which must be open), framed once per message. */
export function sendBinary(ws: WebSocket, payload: Uint8Array): void {
  const { _socket: socket, _sender: sender, _extensions: extensions } = ws as unknown as Internals
  if (
    !frame || payload.byteLength >= FRAME_ONCE_LIMIT ||
    !socket || socket.destroyed || !sender || sender._state !== SENDER_IDLE || !sender._queue || sender._queue.length > 0 ||
    !noExtensions(extensions)
  ) {
    ws.send(payload, SEND_OPTIONS)
    return
  }
  if (payload !== lastPayload) {
    const data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    lastWire = Buffer.concat(frame(data, FRAME_OPTIONS))
    lastPayload = payload
  }
  socket.write(lastWire as Buffer)
}
