/**
 * The peer handshake's cryptography: a pre-shared-key handshake in the shape of TLS 1.3's
 * PSK mode, built from Node's HKDF (RFC 5869) and HMAC-SHA256, nothing home-made beyond the
 * transcript's layout.
 *
 * - Both sides send `hello` (protocol version, id, a fresh 32-byte nonce).
 * - The transcript hash `th` = SHA-256 over a label, the version, the dialer's id and nonce,
 *   then the listener's id and nonce (each length-prefixed). The roles are the socket's
 *   direction (who dialled whom), never a claim in a frame.
 * - Four keys come from HKDF-SHA256 with the peer secret as input keying material and `th`
 *   as salt, told apart by their `info` label: a finished key per role and a frame key per
 *   direction.
 * - Each side's proof is HMAC(its role's finished key, th), TLS 1.3's Finished message.
 *   The dialer proves first; the listener proves only after it verified the dialer, so
 *   someone who merely reaches `/_peer` gets nothing computed from the secret.
 *
 * What that gives: a proof binds both nonces, both ids, the version and the prover's role,
 * so a proof obtained on one connection is worthless on any other (relaying between two
 * relays, reflection to its sender, replay of a recorded handshake: the receiver's own fresh
 * nonce is in every transcript it accepts). The frame keys depend on the same transcript,
 * so frames of one session cannot be moved to another.
 *
 * @module
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { NONCE_BYTES } from './peer-protocol.ts'

const LABEL = 'tandem-peer/2'

/** Which end of the socket: the relay that dialled (`dialer`) or the one that accepted (`listener`). */
export type Role = 'dialer' | 'listener'

/** What both sides said in their `hello`, placed by role. */
export interface Transcript {
  version: number
  dialerId: string
  dialerNonce: Uint8Array
  listenerId: string
  listenerNonce: Uint8Array
}

/** The keys of one link, derived from the secret and the transcript. */
export interface SessionKeys {
  /** SHA-256 of the transcript. */
  th: Buffer
  finished: Record<Role, Buffer>
  /** Frame keys by sender role: `frames.dialer` seals what the dialer sends. */
  frames: Record<Role, Buffer>
}

export function createNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES))
}

function lengthPrefixed(hash: ReturnType<typeof createHash>, bytes: Uint8Array): void {
  hash.update(Buffer.from([bytes.length >> 8, bytes.length & 0xff]))
  hash.update(bytes)
}

/** SHA-256 of the transcript, every field length-prefixed so no two transcripts share a hash input. */
export function transcriptHash(t: Transcript): Buffer {
  const h = createHash('sha256')
  h.update(LABEL)
  h.update(Buffer.from([t.version >> 8, t.version & 0xff]))
  lengthPrefixed(h, Buffer.from(t.dialerId, 'utf8'))
  lengthPrefixed(h, t.dialerNonce)
  lengthPrefixed(h, Buffer.from(t.listenerId, 'utf8'))
  lengthPrefixed(h, t.listenerNonce)
  return h.digest()
}

function expand(secret: string, th: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), th, `${LABEL} ${info}`, 32))
}

/** Derives a link's keys (HKDF-SHA256: IKM = the peer secret, salt = the transcript hash). */
export function deriveKeys(secret: string, t: Transcript): SessionKeys {
  const th = transcriptHash(t)
  return {
    th,
    finished: { dialer: expand(secret, th, 'dialer finished'), listener: expand(secret, th, 'listener finished') },
    frames: { dialer: expand(secret, th, 'dialer frames'), listener: expand(secret, th, 'listener frames') },
  }
}

/** The proof `role` sends: HMAC-SHA256 over the transcript hash with that role's finished key. */
export function proof(keys: SessionKeys, role: Role): Uint8Array {
  return new Uint8Array(createHmac('sha256', keys.finished[role]).update(keys.th).digest())
}

/** Constant-time check of a proof received from the side playing `role`. */
export function verifyProof(keys: SessionKeys, role: Role, received: Uint8Array): boolean {
  const expected = proof(keys, role)
  return received.length === expected.length && timingSafeEqual(received, expected)
}
