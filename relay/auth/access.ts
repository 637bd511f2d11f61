/**
 * Access control, checked before a room is loaded: on every WebSocket upgrade to a room and
 * every HTTP API call. One of three modes:
 *
 * - `hook`: an extension's `authorize(request, room)` decides (the first extension that has one);
 * - `token`: `--auth-secret` is set; a signed token is required ({@link verifyToken});
 * - `open`: neither; everyone may write everywhere. A token that verifies against the relay's
 *   own per-process demo key (minted by `GET /api/token`) still applies its right, so the demo
 *   can show read-only access; any other token is ignored.
 *
 * The token comes from `Authorization: Bearer <token>` or from `?token=` (what a stock
 * y-websocket client sends with `params: { token }`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { RelayError } from '../wire/errors.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import { DenyList } from './deny-list.ts'
import { roomMatches, signToken, verifyToken, type AuthKey, type Right, type TokenClaims } from './tokens.ts'

/** What an authorizer sees of a request (WebSocket upgrade or HTTP API call). */
export interface AuthRequest {
  transport: 'websocket' | 'http'
  method: string
  url: URL
  /** A request header (lower-case name). */
  header(name: string): string | undefined
  /** The peer's address. */
  ip: string
  /** The token presented (Bearer header, else `?token=`), or null. */
  token: string | null
}

/** A positive decision of an authorizer. */
export interface Grant {
  right: Right
  /** May a `read` holder publish its own awareness (cursor)? Default true. */
  awareness?: boolean
  /** Milliseconds since the epoch when the grant ends (the connection is closed with 4401). */
  expiresAt?: number
  /** Token id: a revocation of it cuts the connection. */
  tokenId?: string
  /**
   * Who writes through this grant (a token's `sub` and `name`, or what an `authorize` hook says):
   * history, the change feed and webhooks attribute the updates to it. Absent in open mode
   * without a demo token carrying one.
   */
  author?: { id: string; name?: string }
}

/** A refusal of an authorizer. */
export interface Refusal {
  refuse: string
  /** 401 (who are you?, the default) or 403 (not this room). */
  status?: 401 | 403
}

/** What an embedder's `authorize` returns. */
export type AuthDecision = Grant | Refusal

/** An embedder's access check, plugged in through {@link RelayExtension.authorize}. */
export type Authorize = (request: AuthRequest, room: string) => AuthDecision | Promise<AuthDecision>

/** What {@link Access} needs. */
export interface AccessOptions {
  keys: readonly AuthKey[] | undefined
  authorize: Authorize | undefined
  denyList: DenyList
  logger: Logger
  metrics: RelayMetrics
}

/** Refusals {@link Access} already logged (callers answer them without a second line). */
export const loggedRefusals = new WeakSet<RelayError>()

/** Reads the token of a request: `Authorization: Bearer`, else `?token=`. */
export function tokenOf(authorization: string | undefined, url: URL): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
  return bearer?.[1] ?? url.searchParams.get('token')
}

/** The relay's access checks. */
export class Access {
  readonly mode: 'hook' | 'token' | 'open'
  readonly denyList: DenyList
  private readonly options: AccessOptions
  /** Open mode only: the per-process key demo tokens are signed with. */
  private readonly demoKey: AuthKey | undefined

  constructor(options: AccessOptions) {
    this.options = options
    this.denyList = options.denyList
    this.mode = options.authorize ? 'hook' : options.keys && options.keys.length > 0 ? 'token' : 'open'
    this.demoKey = this.mode === 'open' ? { kid: 'demo', secret: new Uint8Array(randomBytes(32)) } : undefined
  }

  /** Decides whether `request` may open `room`. Throws a {@link RelayError} (`unauthorized`, `forbidden`, `token-revoked`) on refusal. */
  async checkRoom(request: AuthRequest, room: string): Promise<Grant> {
    const grant = await this.decide(request, room)
    if (grant.tokenId && this.denyList.has(grant.tokenId)) throw this.refused(new RelayError('token-revoked', 'token revoked'), request, room)
    this.options.metrics.authDecisions.inc({ result: grant.right })
    return grant
  }

  private async decide(request: AuthRequest, room: string): Promise<Grant> {
    const { authorize, keys } = this.options
    if (authorize) {
      let decision: AuthDecision
      try {
        decision = await authorize(request, room)
      } catch (error) {
        this.options.logger.error({ room, err: error }, 'authorize hook threw; refusing')
        throw this.refused(new RelayError('unauthorized', 'authorization failed'), request, room)
      }
      if ('refuse' in decision) {
        throw this.refused(new RelayError(decision.status === 403 ? 'forbidden' : 'unauthorized', decision.refuse || 'refused'), request, room)
      }
      if (decision.right !== 'read' && decision.right !== 'write') throw this.refused(new RelayError('unauthorized', 'authorize returned no right'), request, room)
      if (decision.expiresAt !== undefined && decision.expiresAt <= Date.now()) throw this.refused(new RelayError('unauthorized', 'grant already expired'), request, room)
      return decision
    }
    if (this.mode === 'open') {
      const demo = request.token && this.demoKey ? await verifyToken(request.token, [this.demoKey]) : null
      if (demo?.ok && demo.claims.rooms.some((p) => roomMatches(p, room))) return this.grantOf(demo.claims)
      return { right: 'write' }
    }
    const result = await verifyToken(request.token, keys ?? [])
    if (!result.ok) throw this.refused(new RelayError('unauthorized', result.reason), request, room, result.failure)
    if (!result.claims.rooms.some((p) => roomMatches(p, room))) {
      throw this.refused(new RelayError('forbidden', 'token does not cover this room'), request, room, 'room')
    }
    return this.grantOf(result.claims)
  }

  private grantOf(claims: TokenClaims): Grant {
    return {
      right: claims.right,
      awareness: true,
      expiresAt: claims.exp * 1000,
      ...(claims.jti ? { tokenId: claims.jti } : {}),
      ...(claims.sub ? { author: { id: claims.sub, ...(claims.name ? { name: claims.name } : {}) } } : {}),
    }
  }

  /** Requires an admin token signed with an `--auth-secret` key (the deny-list API does not exist without one). */
  async checkAdmin(request: AuthRequest): Promise<TokenClaims> {
    if (!this.options.keys || this.options.keys.length === 0) throw this.refused(new RelayError('forbidden', 'the admin API needs --auth-secret'), request)
    const result = await verifyToken(request.token, this.options.keys ?? [])
    if (!result.ok) throw this.refused(new RelayError('unauthorized', result.reason), request, undefined, result.failure)
    if (!result.claims.admin) throw this.refused(new RelayError('forbidden', 'not an admin token'), request, undefined, 'not-admin')
    if (this.denyList.has(result.claims.jti)) throw this.refused(new RelayError('token-revoked', 'token revoked'), request)
    return result.claims
  }

  /** Open mode only: a token for the demo page (null when the relay is not open). */
  async demoToken(room: string, right: Right, ttlSeconds = 3600): Promise<string | null> {
    if (!this.demoKey) return null
    return signToken(this.demoKey, { rooms: [room], right, ttlSeconds })
  }

  private refused(error: RelayError, request: AuthRequest, room?: string, failure?: string): RelayError {
    this.options.metrics.authDecisions.inc({ result: error.code })
    this.options.logger.warn(
      { room, code: error.code, failure, reason: error.message, transport: request.transport, ip: request.ip, path: request.url.pathname },
      'access refused',
    )
    loggedRefusals.add(error)
    return error
  }
}

/** Whether `origin` may use the relay: always when no list is set, or no `Origin` was sent (non-browser clients). */
export function originAllowed(list: readonly string[], origin: string | undefined): boolean {
  if (list.length === 0 || origin === undefined) return true
  return list.includes('*') || list.includes(origin)
}
