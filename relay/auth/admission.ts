/**
 * Admission of a WebSocket upgrade to a room, in order, before the room is loaded (so a
 * refusal sends no byte of the document): connections per IP, `Origin` against
 * `--cors-origins`, access (token, hook or open), distinct rooms per IP per minute. Each
 * refusal is counted and logged once and answered with its HTTP status before the upgrade.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { RelayError } from '../wire/errors.ts'
import type { RelayMetrics } from '../observability/metrics.ts'
import type { IpLimits } from './ip-limits.ts'
import { loggedRefusals, originAllowed, tokenOf, type Access, type AuthRequest, type Grant } from './access.ts'

/** What admission needs. */
export interface AdmissionDeps {
  /** The relay config's admission fields (`--max-connections-per-ip`, `--max-rooms-per-minute`, `--cors-origins`). */
  config: { maxConnectionsPerIp: number; maxRoomsPerMinute: number; corsOrigins: readonly string[] }
  access: Access
  ipLimits: IpLimits
  metrics: RelayMetrics
  logger: Logger
}

/** The request as an {@link AuthRequest}. */
export function upgradeRequest(req: IncomingMessage, url: URL, ip: string): AuthRequest {
  return {
    transport: 'websocket',
    method: req.method ?? 'GET',
    url,
    header: (name) => {
      const v = req.headers[name.toLowerCase()]
      return Array.isArray(v) ? v.join(', ') : v
    },
    ip,
    token: tokenOf(req.headers.authorization, url),
  }
}

/**
 * Counts `ip`'s connection as closed once `socket` closes. A function of its own: a listener made
 * inside {@link admitUpgrade} would keep the upgrade request (its headers, its URL) alive for as
 * long as the connection lasts.
 */
function releaseOnClose(socket: Duplex, ipLimits: IpLimits, ip: string): void {
  socket.once('close', () => ipLimits.closeConnection(ip))
}

/**
 * Admits an upgrade of `socket` to `room`, or returns the refusal (already counted and logged).
 * An admitted connection counts against its IP until `socket` closes.
 */
export async function admitUpgrade(req: IncomingMessage, socket: Duplex, url: URL, room: string, deps: AdmissionDeps): Promise<Grant | RelayError> {
  const { config, access, ipLimits, metrics, logger } = deps
  const ip = req.socket.remoteAddress ?? 'unknown'
  const refuse = (error: RelayError, limit?: string): RelayError => {
    if (limit) metrics.limitsHit.inc({ limit })
    metrics.errors.inc({ code: error.code })
    if (!loggedRefusals.has(error)) logger.warn({ room, ip, code: error.code, limit, origin: req.headers.origin, reason: error.message }, 'upgrade refused')
    return error
  }
  if (!ipLimits.openConnection(ip)) {
    return refuse(new RelayError('too-many-connections', `more than ${config.maxConnectionsPerIp} connections from this address`), 'connections-per-ip')
  }
  releaseOnClose(socket, ipLimits, ip)
  if (!originAllowed(config.corsOrigins, req.headers.origin)) return refuse(new RelayError('forbidden', 'origin not allowed'))
  let grant: Grant
  try {
    grant = await access.checkRoom(upgradeRequest(req, url, ip), room)
  } catch (error) {
    return refuse(error instanceof RelayError ? error : new RelayError('unauthorized', 'authorization failed', { cause: error }))
  }
  if (!ipLimits.openRoom(ip, room)) {
    return refuse(new RelayError('too-many-rooms', `more than ${config.maxRoomsPerMinute} rooms a minute from this address`), 'rooms-per-minute')
  }
  return grant
}
