/**
 * The relay-to-relay wire format, carried on one WebSocket per peer pair (`/_peer`).
 *
 * Every frame is `varUint(kind)` followed by the kind's fields, written with lib0
 * encoding (no JSON on the wire). Room frames name their room, so one connection
 * multiplexes every room. `hello` and `auth` travel in the clear; every frame after the
 * handshake is sealed (peer-seal.ts), and a frame that does not open closes the link.
 *
 * - `hello`   version, sender id, 32-byte nonce (the layout every version keeps, so a relay
 *             of another version can read the version and refuse clearly)
 * - `auth`    the sender's proof: HMAC-SHA256 of the transcript hash with its role's key
 *             (peer-auth.ts); the dialer sends it first, the listener after verifying it
 * - `digest`  complete?, (room, state vector, flags, delete-set fingerprint)*: every room the
 *             sender stores (complete, on link up) or a few rooms it suspects are behind
 *             (partial) — anti-entropy
 * - `sync1`   room, state vector: "send me what I lack" (sent when a room is loaded)
 * - `sync2`   room, path, update: an answer to a digest or sync1 (what the receiver lacks)
 * - `update`  room, path, update: a live update forwarded by policy
 * - `ack`     room, persisted state vector of the sender (replication-lag accounting)
 * - `deny`    (jti, until, at, lifted)*: deny-list entries, the whole list on link up and
 *             each change as it happens (one trust domain for the cluster)
 * - `synced`  (no fields): the sender has sent everything the receiver's complete digest showed
 *             it lacks (the receiver is caught up once the frames before it are applied)
 * - `versions` (mark bytes)*: version marks of the history (relay/history/version-marks.ts: a
 *             version named, restored or deleted, with its state), each change as it happens and
 *             what a `version-index` showed the receiver lacks; the marks are opaque here, checked
 *             by the history (a malformed one is dropped, the link stays)
 * - `version-index` done?, (room, version id, at, relay)*: every mark the sender holds, on link up
 *             (in several frames; `done` on the last): the receiver answers with the marks the
 *             sender lacks or holds older
 *
 * `path` lists the ids of the relays the update has passed, oldest first (ring/tree
 * forwarding drops what already carries its own id).
 *
 * @module
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

/**
 * Protocol version sent in `hello`; a peer with another version is refused (close code
 * `incompatible`, logged on both sides). 2: transcript-bound handshake and sealed frames.
 * 3: version marks (`versions`, `version-index`).
 */
export const PEER_PROTOCOL_VERSION = 3
export const NONCE_BYTES = 32
export const MAC_BYTES = 32
export const MAX_ROOM_NAME_BYTES = 256
export const MAX_RELAY_ID_BYTES = 256
export const MAX_PATH_LENGTH = 64

/** Frame kinds (the first varUint of a frame). */
export const FrameKind = {
  hello: 0,
  auth: 1,
  digest: 2,
  sync1: 3,
  sync2: 4,
  update: 5,
  ack: 6,
  deny: 7,
  synced: 8,
  versions: 9,
  versionIndex: 10,
} as const
export type FrameKindName = keyof typeof FrameKind

/** Digest flag: the sender may hold deletions the receiver lacks even with equal state vectors. */
export const DIGEST_FLAG_FORCE = 1
/** Digest flag: answer with your own digest entry (and persisted ack) for this room. */
export const DIGEST_FLAG_REPLY = 2

export interface DigestEntry {
  room: string
  stateVector: Uint8Array
  /** Bit set of `DIGEST_FLAG_*`. */
  flags: number
  /** Fingerprint of the room's delete set (delete-fingerprints.ts); absent or empty: not known. */
  deletes?: Uint8Array
}

/** Longest delete-set fingerprint accepted. */
export const MAX_FINGERPRINT_BYTES = 32

/** One deny-list entry on the wire (see auth/deny-list.ts). */
export interface DenyWireEntry {
  jti: string
  until: number
  at: number
  lifted?: boolean
}

export const MAX_JTI_BYTES = 256

/** One entry of a `version-index` frame (a mark's key, see relay/history/version-marks.ts). */
export interface VersionIndexEntry {
  room: string
  /** 16 hex digits. */
  id: string
  at: number
  relay: string
}

export type PeerFrame =
  | { kind: 'hello'; version: number; id: string; nonce: Uint8Array }
  | { kind: 'auth'; mac: Uint8Array }
  | { kind: 'digest'; complete: boolean; entries: DigestEntry[] }
  | { kind: 'sync1'; room: string; stateVector: Uint8Array }
  | { kind: 'sync2'; room: string; path: string[]; update: Uint8Array }
  | { kind: 'update'; room: string; path: string[]; update: Uint8Array }
  | { kind: 'ack'; room: string; stateVector: Uint8Array }
  | { kind: 'deny'; entries: DenyWireEntry[] }
  | { kind: 'synced' }
  | { kind: 'versions'; marks: Uint8Array[] }
  | { kind: 'versionIndex'; done: boolean; entries: VersionIndexEntry[] }

/** Reasons a frame is refused; each maps to the close code `PEER_CLOSE.protocol`. */
export type PeerProtocolErrorCode =
  | 'truncated'
  | 'trailing-bytes'
  | 'unknown-kind'
  | 'bad-length'
  | 'bad-room'
  | 'bad-id'
  | 'path-too-long'

/** A frame that does not decode under this protocol. */
export class PeerProtocolError extends Error {
  constructor(readonly code: PeerProtocolErrorCode, message: string) {
    super(message)
    this.name = 'PeerProtocolError'
  }
}

/** WebSocket close codes used on peer links. */
export const PEER_CLOSE = {
  /** Graceful shutdown of the relay. */
  goingAway: 1001,
  /** Too many incoming handshakes pending at once: come back later. */
  tryAgainLater: 1013,
  /** A frame failed to decode or arrived out of order (e.g. data before auth). */
  protocol: 4400,
  /** Handshake proof did not verify: wrong or missing peer secret, or a relayed/reflected/replayed handshake. */
  unauthorized: 4401,
  /** A frame after the handshake failed to open: altered, injected, dropped or reordered on the way. */
  badFrame: 4402,
  /** Handshake did not finish in time. */
  handshakeTimeout: 4408,
  /** Another link to the same peer is kept; this one is closed. */
  duplicate: 4409,
  /** The peer speaks another protocol version or connected to itself. */
  incompatible: 4426,
} as const

export function encodeFrame(frame: PeerFrame): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, FrameKind[frame.kind])
  switch (frame.kind) {
    case 'hello':
      encoding.writeVarUint(e, frame.version)
      encoding.writeVarString(e, frame.id)
      encoding.writeVarUint8Array(e, frame.nonce)
      break
    case 'auth':
      encoding.writeVarUint8Array(e, frame.mac)
      break
    case 'digest':
      encoding.writeUint8(e, frame.complete ? 1 : 0)
      encoding.writeVarUint(e, frame.entries.length)
      for (const entry of frame.entries) {
        encoding.writeVarString(e, entry.room)
        encoding.writeVarUint8Array(e, entry.stateVector)
        encoding.writeVarUint(e, entry.flags)
        encoding.writeVarUint8Array(e, entry.deletes ?? new Uint8Array(0))
      }
      break
    case 'sync1':
    case 'ack':
      encoding.writeVarString(e, frame.room)
      encoding.writeVarUint8Array(e, frame.stateVector)
      break
    case 'sync2':
    case 'update':
      encoding.writeVarString(e, frame.room)
      encoding.writeVarUint(e, frame.path.length)
      for (const id of frame.path) encoding.writeVarString(e, id)
      encoding.writeVarUint8Array(e, frame.update)
      break
    case 'deny':
      encoding.writeVarUint(e, frame.entries.length)
      for (const entry of frame.entries) {
        encoding.writeVarString(e, entry.jti)
        encoding.writeFloat64(e, entry.until)
        encoding.writeFloat64(e, entry.at)
        encoding.writeUint8(e, entry.lifted ? 1 : 0)
      }
      break
    case 'versions':
      encoding.writeVarUint(e, frame.marks.length)
      for (const mark of frame.marks) encoding.writeVarUint8Array(e, mark)
      break
    case 'versionIndex':
      encoding.writeUint8(e, frame.done ? 1 : 0)
      encoding.writeVarUint(e, frame.entries.length)
      for (const entry of frame.entries) {
        encoding.writeVarString(e, entry.room)
        encoding.writeUint8Array(e, Buffer.from(entry.id, 'hex'))
        encoding.writeFloat64(e, entry.at)
        encoding.writeVarString(e, entry.relay)
      }
      break
  }
  return encoding.toUint8Array(e)
}

const textEncoder = new TextEncoder()

function readString(d: decoding.Decoder, maxBytes: number, code: 'bad-room' | 'bad-id'): string {
  const s = decoding.readVarString(d)
  const bytes = textEncoder.encode(s).length
  if (bytes === 0 || bytes > maxBytes) throw new PeerProtocolError(code, `${code}: ${bytes} bytes`)
  return s
}

function readRoom(d: decoding.Decoder): string {
  return readString(d, MAX_ROOM_NAME_BYTES, 'bad-room')
}

function readBytes(d: decoding.Decoder, exact?: number): Uint8Array {
  const b = decoding.readVarUint8Array(d)
  if (exact !== undefined && b.length !== exact) {
    throw new PeerProtocolError('bad-length', `expected ${exact} bytes, got ${b.length}`)
  }
  return b
}

function readPath(d: decoding.Decoder): string[] {
  const n = decoding.readVarUint(d)
  if (n > MAX_PATH_LENGTH) throw new PeerProtocolError('path-too-long', `path of ${n} relays`)
  const path: string[] = []
  for (let i = 0; i < n; i++) path.push(readString(d, MAX_RELAY_ID_BYTES, 'bad-id'))
  return path
}

function decodeBody(d: decoding.Decoder): PeerFrame {
  const kind = decoding.readVarUint(d)
  switch (kind) {
    case FrameKind.hello: {
      const version = decoding.readVarUint(d)
      const id = readString(d, MAX_RELAY_ID_BYTES, 'bad-id')
      return { kind: 'hello', version, id, nonce: readBytes(d, NONCE_BYTES) }
    }
    case FrameKind.auth:
      return { kind: 'auth', mac: readBytes(d, MAC_BYTES) }
    case FrameKind.digest: {
      const complete = decoding.readUint8(d)
      if (complete > 1) throw new PeerProtocolError('bad-length', `digest completeness ${complete}`)
      const n = decoding.readVarUint(d)
      // Every entry takes at least 5 bytes: refuse counts the frame cannot hold.
      if (n * 5 > d.arr.length - d.pos) throw new PeerProtocolError('bad-length', `digest of ${n} entries`)
      const entries: DigestEntry[] = []
      for (let i = 0; i < n; i++) {
        const entry: DigestEntry = { room: readRoom(d), stateVector: readBytes(d), flags: decoding.readVarUint(d) }
        const deletes = readBytes(d)
        if (deletes.length > MAX_FINGERPRINT_BYTES) throw new PeerProtocolError('bad-length', `fingerprint of ${deletes.length} bytes`)
        if (deletes.length > 0) entry.deletes = deletes
        entries.push(entry)
      }
      return { kind: 'digest', complete: complete === 1, entries }
    }
    case FrameKind.sync1:
      return { kind: 'sync1', room: readRoom(d), stateVector: readBytes(d) }
    case FrameKind.ack:
      return { kind: 'ack', room: readRoom(d), stateVector: readBytes(d) }
    case FrameKind.sync2:
    case FrameKind.update: {
      const room = readRoom(d)
      const path = readPath(d)
      const update = readBytes(d)
      return { kind: kind === FrameKind.sync2 ? 'sync2' : 'update', room, path, update }
    }
    case FrameKind.synced:
      return { kind: 'synced' }
    case FrameKind.deny: {
      const n = decoding.readVarUint(d)
      // Every entry takes at least 18 bytes (name length, a byte of name, two floats, a flag).
      if (n * 18 > d.arr.length - d.pos) throw new PeerProtocolError('bad-length', `deny list of ${n} entries`)
      const entries: DenyWireEntry[] = []
      for (let i = 0; i < n; i++) {
        const jti = readString(d, MAX_JTI_BYTES, 'bad-id')
        const until = decoding.readFloat64(d)
        const at = decoding.readFloat64(d)
        const lifted = decoding.readUint8(d)
        if (!Number.isFinite(until) || !Number.isFinite(at) || lifted > 1) throw new PeerProtocolError('bad-length', 'deny entry out of range')
        entries.push({ jti, until, at, ...(lifted === 1 ? { lifted: true } : {}) })
      }
      return { kind: 'deny', entries }
    }
    case FrameKind.versions: {
      const n = decoding.readVarUint(d)
      if (n > d.arr.length - d.pos) throw new PeerProtocolError('bad-length', `${n} version marks`)
      const marks: Uint8Array[] = []
      for (let i = 0; i < n; i++) marks.push(readBytes(d))
      return { kind: 'versions', marks }
    }
    case FrameKind.versionIndex: {
      const done = decoding.readUint8(d)
      if (done > 1) throw new PeerProtocolError('bad-length', `version index flag ${done}`)
      const n = decoding.readVarUint(d)
      // Every entry takes at least 19 bytes (a room byte and its length, the id, a float, a relay byte and its length).
      if (n * 19 > d.arr.length - d.pos) throw new PeerProtocolError('bad-length', `version index of ${n} entries`)
      const entries: VersionIndexEntry[] = []
      for (let i = 0; i < n; i++) {
        const room = readRoom(d)
        const id = Buffer.from(decoding.readUint8Array(d, 8)).toString('hex')
        const at = decoding.readFloat64(d)
        if (!Number.isFinite(at)) throw new PeerProtocolError('bad-length', 'version index entry out of range')
        entries.push({ room, id, at, relay: readString(d, MAX_RELAY_ID_BYTES, 'bad-id') })
      }
      return { kind: 'versionIndex', done: done === 1, entries }
    }
    default:
      throw new PeerProtocolError('unknown-kind', `unknown frame kind ${kind}`)
  }
}

/**
 * Decodes one frame strictly: truncated frames, unknown kinds, oversized names or paths
 * and trailing bytes throw {@link PeerProtocolError}.
 */
export function decodeFrame(bytes: Uint8Array): PeerFrame {
  const d = decoding.createDecoder(bytes)
  let frame: PeerFrame
  try {
    frame = decodeBody(d)
  } catch (err) {
    if (err instanceof PeerProtocolError) throw err
    throw new PeerProtocolError('truncated', `truncated frame: ${(err as Error).message}`)
  }
  if (decoding.hasContent(d)) {
    throw new PeerProtocolError('trailing-bytes', `${d.arr.length - d.pos} trailing bytes`)
  }
  return frame
}
