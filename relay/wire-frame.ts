/**
 * Encoding each outgoing WebSocket frame once for all its receivers. A relay sends the same
 * message to every client of a room; `ws` would build a frame header (and an options object,
 * and two socket writes) per receiver. Server-to-client frames are not masked, so the bytes
 * on the wire are the same for every receiver: the first send of a message builds them once
 * (header and payload in one buffer), and every later send of the same message writes that
 * buffer to the receiver's socket.
 *
 * It uses `ws` internals (`_socket`, `_extensions`, and the sender's `_state` and `_queue`) and only when it
 * is safe: no extension negotiated (no permessage-deflate, so the payload goes out as it is)
 * and nothing queued in the sender (the frame cannot overtake another). Otherwise, or with
 * another `ws` version lacking these fields, the frame goes through `ws.send` as before.
 *
 * @module
 */
import type { WebSocket } from 'ws'

interface Internals {
  _socket?: { write(chunk: Uint8Array): boolean; destroyed: boolean }
  _sender?: { _state?: number; _queue?: unknown[] }
  /** Negotiated extensions by name (`ws.extensions` joins their names: a string per call). */
  _extensions?: Record<string, unknown>
}

/** Whether no extension was negotiated (false when that cannot be told). */
function noExtensions(extensions: Record<string, unknown> | undefined): boolean {
  if (!extensions) return false
  for (const _ in extensions) return false
  return true
}

const SEND_OPTIONS = { binary: true } as const
/** `ws`'s Sender state when it writes frames at once (no deflate, no blob being read). */
const SENDER_IDLE = 0

/** The last message framed, and its frame: one entry is enough, a broadcast sends one message to every receiver in a row. */
let lastPayload: Uint8Array | null = null
let lastWire: Buffer | null = null

/** `payload` as one unmasked, final, binary WebSocket frame (RFC 6455 §5.2). */
export function binaryFrame(payload: Uint8Array): Buffer {
  const length = payload.byteLength
  const headerBytes = length < 126 ? 2 : length < 65536 ? 4 : 10
  const wire = Buffer.allocUnsafe(headerBytes + length)
  wire[0] = 0x82 // FIN + opcode 2 (binary)
  if (length < 126) {
    wire[1] = length
  } else if (length < 65536) {
    wire[1] = 126
    wire.writeUInt16BE(length, 2)
  } else {
    wire[1] = 127
    wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    wire.writeUInt32BE(length >>> 0, 6)
  }
  wire.set(payload, headerBytes)
  return wire
}

/** Sends `payload` as one binary message on `ws` (which must be open), framed once per message. */
export function sendBinary(ws: WebSocket, payload: Uint8Array): void {
  const { _socket: socket, _sender: sender, _extensions: extensions } = ws as unknown as Internals
  if (!socket || socket.destroyed || !sender || sender._state !== SENDER_IDLE || !sender._queue || sender._queue.length > 0 || !noExtensions(extensions)) {
    ws.send(payload, SEND_OPTIONS)
    return
  }
  if (payload !== lastPayload) {
    lastWire = binaryFrame(payload)
    lastPayload = payload
  }
  socket.write(lastWire as Buffer)
}
