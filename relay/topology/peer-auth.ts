/**
 * Challenge-response proof of the shared peer secret (HMAC-SHA256). The secret never
 * crosses the wire: each side sends a fresh nonce in `hello`, and proves it knows the
 * secret by MACing the other side's nonce together with both ids (so a proof cannot be
 * replayed to another relay or reflected back).
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { NONCE_BYTES } from './peer-protocol.ts'

const LABEL = 'tandem-peer/1'

export function createNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES))
}

/** The proof `prover` sends to `verifier`, answering the verifier's nonce. */
export function proveSecret(secret: string, verifierNonce: Uint8Array, prover: string, verifier: string): Uint8Array {
  const mac = createHmac('sha256', secret)
  mac.update(LABEL)
  mac.update(verifierNonce)
  // Length-prefix the ids so ("ab","c") and ("a","bc") differ.
  for (const id of [prover, verifier]) {
    const bytes = Buffer.from(id, 'utf8')
    mac.update(Buffer.from([bytes.length >> 8, bytes.length & 0xff]))
    mac.update(bytes)
  }
  return new Uint8Array(mac.digest())
}

/** Constant-time check of a proof received from `prover` for my nonce. */
export function verifySecret(
  secret: string, myNonce: Uint8Array, prover: string, me: string, proof: Uint8Array,
): boolean {
  const expected = proveSecret(secret, myNonce, prover, me)
  return proof.length === expected.length && timingSafeEqual(proof, expected)
}
