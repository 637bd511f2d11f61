/**
 * The one error every CRDT decoder throws on bad input.
 *
 * `code` says why: `truncated` (input ended early), `checksum` (bytes were altered),
 * `wrong-type` (bytes encode another CRDT type or format version), `corrupt` (bytes are
 * framed correctly but the payload breaks an invariant of the type).
 * A decoder that throws never returns or mutates anything: decoding builds a fresh value.
 */
export class CrdtCodecError extends Error {
  readonly code: CrdtCodecErrorCode
  constructor (code: CrdtCodecErrorCode, message: string) {
    super(`crdt codec (${code}): ${message}`)
    this.name = 'CrdtCodecError'
    this.code = code
  }
}

/** Why a decode was refused. */
export type CrdtCodecErrorCode = 'truncated' | 'checksum' | 'wrong-type' | 'corrupt'
