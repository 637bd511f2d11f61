/**
 * The wire format: the y-websocket protocol (sync, awareness, auth, query-awareness) plus
 * tandem's durability acknowledgement (`MESSAGE_SAVED`, type 100). Browser-safe: imports
 * only lib0, yjs and y-protocols.
 *
 * Decoding is strict: a truncated or malformed frame, trailing bytes, an unknown message
 * type, or a Yjs/awareness update that does not decode throws a {@link ProtocolError}.
 *
 * @module
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_AUTH = 2
export const MESSAGE_QUERY_AWARENESS = 3
/** tandem extension: durability acknowledgement (see CONTRACT.md). */
export const MESSAGE_SAVED = 100

export const SYNC_STEP_1 = 0
export const SYNC_STEP_2 = 1
export const SYNC_UPDATE = 2

/** A frame that could not be decoded. `code` matches the relay's error codes. */
export class ProtocolError extends Error {
  readonly code: 'malformed-message' | 'unknown-message' | 'invalid-update'
  constructor(code: 'malformed-message' | 'unknown-message' | 'invalid-update', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProtocolError'
    this.code = code
  }
}

/** One decoded client message. */
export type ClientMessage =
  | { type: 'sync-step-1'; stateVector: Uint8Array }
  | { type: 'sync-step-2'; update: Uint8Array }
  | { type: 'sync-update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'auth'; reason: string }
  | { type: 'query-awareness' }
  | { type: 'saved-subscribe' }

const utf8 = new TextDecoder('utf-8', { fatal: true })

function varUint(decoder: decoding.Decoder): number {
  if (decoder.pos >= decoder.arr.length) throw new ProtocolError('malformed-message', 'truncated frame')
  try {
    const n = decoding.readVarUint(decoder)
    if (!Number.isSafeInteger(n)) throw new Error('varint overflow')
    return n
  } catch (cause) {
    throw new ProtocolError('malformed-message', 'truncated or malformed varint', { cause })
  }
}

function bytes(decoder: decoding.Decoder): Uint8Array {
  const length = varUint(decoder)
  if (length > decoder.arr.length - decoder.pos) throw new ProtocolError('malformed-message', 'truncated frame: length exceeds frame')
  const view = decoder.arr.subarray(decoder.pos, decoder.pos + length)
  decoder.pos += length
  return view
}

function string(decoder: decoding.Decoder): string {
  try {
    return utf8.decode(bytes(decoder))
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause
    throw new ProtocolError('malformed-message', 'string is not valid UTF-8', { cause })
  }
}

function end(decoder: decoding.Decoder): void {
  if (decoder.pos !== decoder.arr.length) throw new ProtocolError('malformed-message', 'trailing bytes after message')
}

/** Throws `invalid-update` unless `update` is a decodable Yjs (v1) update. */
export function validateUpdate(update: Uint8Array): void {
  try {
    Y.decodeUpdate(update)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'update does not decode', { cause })
  }
}

/** Throws `invalid-update` unless `sv` is a decodable state vector. */
export function validateStateVector(sv: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(sv)
    const n = varUint(decoder)
    for (let i = 0; i < n; i++) {
      varUint(decoder)
      varUint(decoder)
    }
    end(decoder)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'state vector does not decode', { cause })
  }
}

/** Throws `invalid-update` unless `update` is a well-formed awareness update (states are JSON). */
export function validateAwarenessUpdate(update: Uint8Array): void {
  try {
    const decoder = decoding.createDecoder(update)
    const n = varUint(decoder)
    for (let i = 0; i < n; i++) {
      varUint(decoder)
      varUint(decoder)
      JSON.parse(string(decoder))
    }
    end(decoder)
  } catch (cause) {
    throw new ProtocolError('invalid-update', 'awareness update does not decode', { cause })
  }
}

/**
 * Decodes one client frame strictly, validating embedded Yjs updates, state vectors and
 * awareness updates. Throws {@link ProtocolError}.
 */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  const decoder = decoding.createDecoder(frame)
  const type = varUint(decoder)
  let message: ClientMessage
  switch (type) {
    case MESSAGE_SYNC: {
      const sub = varUint(decoder)
      if (sub === SYNC_STEP_1) {
        const stateVector = bytes(decoder)
        validateStateVector(stateVector)
        message = { type: 'sync-step-1', stateVector }
      } else if (sub === SYNC_STEP_2 || sub === SYNC_UPDATE) {
        // Framing only: Room.applyUpdate, the one door every update goes through (WebSocket,
        // HTTP, peer links), decodes the update before applying it.
        const update = bytes(decoder)
        message = { type: sub === SYNC_STEP_2 ? 'sync-step-2' : 'sync-update', update }
      } else {
        throw new ProtocolError('unknown-message', `unknown sync message type ${sub}`)
      }
      break
    }
    case MESSAGE_AWARENESS: {
      const update = bytes(decoder)
      validateAwarenessUpdate(update)
      message = { type: 'awareness', update }
      break
    }
    case MESSAGE_AUTH: {
      varUint(decoder)
      message = { type: 'auth', reason: string(decoder) }
      break
    }
    case MESSAGE_QUERY_AWARENESS:
      message = { type: 'query-awareness' }
      break
    case MESSAGE_SAVED: {
      const sub = varUint(decoder)
      if (sub !== 0) throw new ProtocolError('unknown-message', `unknown saved message type ${sub}`)
      message = { type: 'saved-subscribe' }
      break
    }
    default:
      throw new ProtocolError('unknown-message', `unknown message type ${type}`)
  }
  end(decoder)
  return message
}

function frame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** `sync step 1`: the sender's state vector. */
export function encodeSyncStep1(stateVector: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC)
    encoding.writeVarUint(e, SYNC_STEP_1)
    encoding.writeVarUint8Array(e, stateVector)
  })
}

/** `sync step 2`: what the receiver is missing. */
export function encodeSyncStep2(update: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC)
    encoding.writeVarUint(e, SYNC_STEP_2)
    encoding.writeVarUint8Array(e, update)
  })
}

/** `sync update`: one incremental update. */
export function encodeSyncUpdate(update: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SYNC)
    encoding.writeVarUint(e, SYNC_UPDATE)
    encoding.writeVarUint8Array(e, update)
  })
}

/** An awareness message around an encoded awareness update. */
export function encodeAwareness(update: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(e, update)
  })
}

/** Query-awareness request. */
export function encodeQueryAwareness(): Uint8Array {
  return frame((e) => encoding.writeVarUint(e, MESSAGE_QUERY_AWARENESS))
}

/** Client → relay: subscribe to saved acknowledgements. */
export function encodeSavedSubscribe(): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SAVED)
    encoding.writeVarUint(e, 0)
  })
}

/** Relay → client: the state vector durably stored for the room. */
export function encodeSaved(persistedStateVector: Uint8Array): Uint8Array {
  return frame((e) => {
    encoding.writeVarUint(e, MESSAGE_SAVED)
    encoding.writeVarUint8Array(e, persistedStateVector)
  })
}

/** Decodes a relay → client saved message: the persisted state vector as a map clientID → clock. */
export function decodeSaved(frame: Uint8Array): Map<number, number> {
  const decoder = decoding.createDecoder(frame)
  if (varUint(decoder) !== MESSAGE_SAVED) throw new ProtocolError('unknown-message', 'not a saved message')
  const sv = bytes(decoder)
  end(decoder)
  return Y.decodeStateVector(sv)
}

/** True when everything `doc` holds from its own client is covered by `persisted`. */
export function isSaved(doc: Y.Doc, persisted: Map<number, number>): boolean {
  const own = Y.getState(doc.store, doc.clientID)
  return own === 0 || (persisted.get(doc.clientID) ?? 0) >= own
}
