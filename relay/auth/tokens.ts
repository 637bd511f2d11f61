/**
 * Access tokens: HS256 JWTs (jose) naming the rooms a holder may open and the right it has
 * there. Several secrets can be accepted at once, each under a key id (`kid`), so a secret is
 * rotated with no downtime: start the relays with `new:NEW,old:OLD` (tokens are signed with
 * the first), and drop `old` once every token signed with it has expired.
 *
 * Claims: `rooms` (exact names, or prefixes ending in `/`: `team-a/` matches `team-a/notes`
 * but never `team-ab`), `right` (`read` | `write`), `exp` (required), `jti` (token id, for the
 * deny list), `admin: true` for the holder of the deny-list API, `sub` (user id) and `name` (display
 * name): the relay attributes what a connection writes to them (history, feed, webhooks).
 *
 * @module
 */
import { randomUUID } from 'node:crypto'

/** jose is loaded on first use: an open relay (no `--auth-secret`) never signs or verifies. */
const loadJose = (): Promise<typeof import('jose')> => import('jose')

/** Longest accepted `sub` and `name` claims (they are stored with every version and event). */
export const MAX_AUTHOR_CHARS = 200

/** What a token lets its holder do in a room. */
export type Right = 'read' | 'write'

/** One accepted secret. */
export interface AuthKey {
  kid: string
  secret: Uint8Array
}

/** The claims of a tandem token. */
export interface TokenClaims {
  /** Exact room names, or prefixes ending in `/`. `*` matches every room. */
  rooms: string[]
  right: Right
  /** Token id (the deny list names tokens by it). */
  jti: string
  /** Expiry, seconds since the epoch. */
  exp: number
  /** Holder may use the deny-list API. */
  admin?: boolean
  /** User id: what this token's holder writes is attributed to it. */
  sub?: string
  /** The user's display name. */
  name?: string
}

/** Why a token was refused. */
export type TokenFailure = 'missing' | 'malformed' | 'bad-signature' | 'unknown-key' | 'expired' | 'bad-claims'

/** Shortest accepted secret, in bytes: HS256 keys shorter than this are guessable offline. */
export const MIN_SECRET_BYTES = 16
const KID = /^[A-Za-z0-9._-]{1,64}$/
/** The `kid` given to a secret passed without one. */
export const DEFAULT_KID = 'k1'

/**
 * Parses `--auth-secret`: one secret, or a comma-separated list of `kid:secret` entries (the
 * first signs, all verify). A bare secret gets key id {@link DEFAULT_KID}. Throws a plain
 * Error with a clear message on a short secret or a repeated key id.
 */
export function parseAuthSecrets(value: string): AuthKey[] {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean)
  const keys: AuthKey[] = []
  for (const entry of entries) {
    const colon = entry.indexOf(':')
    const named = colon > 0 && KID.test(entry.slice(0, colon))
    const kid = named ? entry.slice(0, colon) : DEFAULT_KID
    const secret = named ? entry.slice(colon + 1) : entry
    if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) throw new Error(`--auth-secret: the secret of key ${JSON.stringify(kid)} is shorter than ${MIN_SECRET_BYTES} bytes`)
    if (keys.some((k) => k.kid === kid)) throw new Error(`--auth-secret: key id ${JSON.stringify(kid)} is given twice (write kid:secret,kid2:secret2)`)
    keys.push({ kid, secret: new TextEncoder().encode(secret) })
  }
  if (keys.length === 0) throw new Error('--auth-secret is empty')
  return keys
}

/** Whether `pattern` (an exact name, a prefix ending in `/`, or `*`) covers `room`. */
export function roomMatches(pattern: string, room: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('/')) return room.length > pattern.length && room.startsWith(pattern)
  return room === pattern
}

/** What {@link signToken} takes. */
export interface SignOptions {
  rooms: string[]
  right: Right
  /** Lifetime in seconds. */
  ttlSeconds: number
  admin?: boolean
  jti?: string
  /** User id the holder writes as. */
  sub?: string
  /** The user's display name. */
  name?: string
}

/** Signs a token with `key` (its `kid` goes in the header). */
export async function signToken(key: AuthKey, options: SignOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const { SignJWT } = await loadJose()
  const claims = {
    rooms: options.rooms,
    right: options.right,
    ...(options.admin ? { admin: true } : {}),
    ...(options.sub ? { sub: options.sub } : {}),
    ...(options.name ? { name: options.name } : {}),
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(options.jti ?? randomUUID())
    .sign(key.secret)
}

/** The outcome of {@link verifyToken}. */
export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; failure: TokenFailure; reason: string }

function decodeHeaderKid(token: string): string | undefined | null {
  const head = token.split('.')[0]
  if (!head) return null
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { kid?: unknown }
    return typeof header.kid === 'string' ? header.kid : undefined
  } catch {
    return null
  }
}

/**
 * Verifies `token` against `keys` (chosen by the header's `kid`; a token without one is checked
 * against the first key). HS256 only; `exp` is required; claims are checked for shape.
 */
export async function verifyToken(token: string | null | undefined, keys: readonly AuthKey[]): Promise<VerifyResult> {
  if (!token) return { ok: false, failure: 'missing', reason: 'no token' }
  if (token.split('.').length !== 3) return { ok: false, failure: 'malformed', reason: 'token is not a JWT' }
  const kid = decodeHeaderKid(token)
  if (kid === null) return { ok: false, failure: 'malformed', reason: 'token header does not decode' }
  const key = kid === undefined ? keys[0] : keys.find((k) => k.kid === kid)
  if (!key) return { ok: false, failure: 'unknown-key', reason: `unknown key id ${JSON.stringify(kid)}` }
  const { jwtVerify, errors: joseErrors } = await loadJose()
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(token, key.secret, { algorithms: ['HS256'], requiredClaims: ['exp'] }))
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, failure: 'expired', reason: 'token expired' }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, failure: 'bad-signature', reason: 'bad token signature' }
    if (error instanceof joseErrors.JWTClaimValidationFailed) return { ok: false, failure: 'bad-claims', reason: error.message }
    return { ok: false, failure: 'malformed', reason: 'token does not verify' }
  }
  const { rooms, right, jti, exp, admin, sub, name } = payload
  if (!Array.isArray(rooms) || !rooms.every((r) => typeof r === 'string')) return { ok: false, failure: 'bad-claims', reason: 'claim "rooms" must be a list of strings' }
  if (right !== 'read' && right !== 'write') return { ok: false, failure: 'bad-claims', reason: 'claim "right" must be read or write' }
  if (typeof exp !== 'number') return { ok: false, failure: 'bad-claims', reason: 'claim "exp" is required' }
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_AUTHOR_CHARS)) return { ok: false, failure: 'bad-claims', reason: `claim "sub" must be a string of 1 to ${MAX_AUTHOR_CHARS} characters` }
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_AUTHOR_CHARS)) return { ok: false, failure: 'bad-claims', reason: `claim "name" must be a string of at most ${MAX_AUTHOR_CHARS} characters` }
  return {
    ok: true,
    claims: {
      rooms: rooms as string[],
      right,
      jti: typeof jti === 'string' ? jti : '',
      exp,
      ...(admin === true ? { admin: true } : {}),
      ...(typeof sub === 'string' ? { sub } : {}),
      ...(typeof name === 'string' && name ? { name } : {}),
    },
  }
}
