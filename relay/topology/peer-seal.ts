/**
 * Sealed peer frames: after the handshake every frame on a link is AES-256-GCM sealed with
 * the sending role's frame key (see peer-auth.ts), the nonce being the frame's sequence
 * number on that link, as TLS 1.3's record layer does. The sequence number is never sent:
 * each side counts, so a frame that was altered, injected, dropped, replayed or reordered
 * fails to open, and the link is closed before any of it is decoded or applied.
 *
 * A sealed frame is `ciphertext | 16-byte tag`; the ciphertext is the frame's encoding.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'

export const TAG_BYTES = 16
const CIPHER = 'aes-256-gcm'
/** Past this many frames in one direction the link is closed and redialled (fresh nonces, fresh keys). */
export const MAX_FRAMES_PER_KEY = 2 ** 48

/** The 12-byte nonce of frame number `seq`: four zero bytes and the number, big-endian. */
function nonceOf(seq: number, into: Buffer): Buffer {
  into.writeUInt32BE(0, 0)
  into.writeUInt32BE(Math.floor(seq / 2 ** 32), 4)
  into.writeUInt32BE(seq >>> 0, 8)
  return into
}

/** A frame that did not open: altered, out of order, or sealed with another key. */
export class SealError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SealError'
  }
}

/** One direction of a link: seals what this side sends, in order. */
export class FrameSealer {
  private seq = 0
  private readonly nonce = Buffer.alloc(12)

  constructor(private readonly key: Buffer) {}

  seal(frame: Uint8Array): Buffer {
    if (this.seq >= MAX_FRAMES_PER_KEY) throw new SealError('frame counter exhausted')
    const cipher = createCipheriv(CIPHER, this.key, nonceOf(this.seq++, this.nonce))
    const out = Buffer.allocUnsafe(frame.length + TAG_BYTES)
    const n = cipher.update(frame).copy(out, 0)
    cipher.final()
    cipher.getAuthTag().copy(out, n)
    return out
  }
}

/** The other direction: opens what the peer sent, refusing anything out of sequence. */
export class FrameOpener {
  private seq = 0
  private readonly nonce = Buffer.alloc(12)

  constructor(private readonly key: Buffer) {}

  /** The frame's encoding; throws {@link SealError} if the frame does not open as the next one. */
  open(sealed: Uint8Array): Uint8Array {
    if (sealed.length < TAG_BYTES) throw new SealError(`sealed frame of ${sealed.length} bytes`)
    if (this.seq >= MAX_FRAMES_PER_KEY) throw new SealError('frame counter exhausted')
    const decipher = createDecipheriv(CIPHER, this.key, nonceOf(this.seq, this.nonce))
    const body = sealed.subarray(0, sealed.length - TAG_BYTES)
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
    const plain = decipher.update(body)
    try {
      decipher.final()
    } catch {
      throw new SealError(`frame ${this.seq} failed authentication`)
    }
    this.seq++
    return plain
  }
}
