/**
 * One client WebSocket in one room: strict decoding, dispatch, send. Frames arriving while
 * the room loads are queued and handled, in order, once it is loaded.
 *
 * @module
 */
import type { WebSocket, RawData } from 'ws'
import type { Logger } from 'pino'
import { decodeClientMessage, encodeSaved, encodeSyncStep1, encodeSyncStep2 } from './protocol.ts'
import { RelayError, asRelayError, closeReason } from './errors.ts'
import type { Room, RoomClient } from './room.ts'
import type { RoomManager } from './rooms.ts'
import type { RelayMetrics } from './metrics.ts'
import { corkUntilTurnEnd } from './turn-cork.ts'

let nextConnectionId = 1
const SEND_OPTIONS = { binary: true } as const

/** What a connection needs. */
export interface ConnectionDeps {
  rooms: RoomManager
  logger: Logger
  metrics: RelayMetrics
}

/** A client connection. */
export class Connection implements RoomClient {
  /** Process-unique id (for logs). */
  readonly id = nextConnectionId++
  readonly roomName: string
  savedSubscribed = false
  readonly awarenessIds = new Set<number>()
  private readonly ws: WebSocket
  private readonly deps: ConnectionDeps
  private room: Room | null = null
  private waiting: Uint8Array[] | null = []
  private closed = false

  constructor(ws: WebSocket, roomName: string, deps: ConnectionDeps) {
    this.ws = ws
    this.roomName = roomName
    this.deps = deps
    deps.metrics.connections.inc()
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary))
    ws.on('error', (error: Error & { code?: string }) => {
      const code = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'too-large' : 'malformed-message'
      this.deps.metrics.errors.inc({ code })
      this.deps.logger.warn({ room: roomName, conn: this.id, code, reason: error.message }, 'connection refused input')
    })
    ws.on('close', () => this.onClose())
    deps.rooms.get(roomName).then(
      (room) => this.attach(room),
      (error: unknown) => this.fail(asRelayError(error)),
    )
  }

  private attach(room: Room): void {
    if (this.closed) return
    if (this.deps.rooms.peek(this.roomName) !== room) {
      // Unloaded between the load resolving and now: load it again.
      this.deps.rooms.get(this.roomName).then(
        (fresh) => this.attach(fresh),
        (error: unknown) => this.fail(asRelayError(error)),
      )
      return
    }
    this.room = room
    this.deps.rooms.pin(room)
    room.clients.add(this)
    this.send(encodeSyncStep1(room.stateVector()))
    const awareness = room.awarenessFrame()
    if (awareness) this.send(awareness)
    const waiting = this.waiting ?? []
    this.waiting = null
    for (const frame of waiting) {
      if (this.closed) break
      this.handle(room, frame)
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    this.deps.metrics.bytesIn.inc(buffer.byteLength)
    if (!isBinary) {
      this.fail(new RelayError('malformed-message', 'text frames are not part of the protocol'))
      return
    }
    const frame = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    if (this.waiting) this.waiting.push(frame)
    else if (this.room) this.handle(this.room, frame)
  }

  private handle(room: Room, frame: Uint8Array): void {
    try {
      const message = decodeClientMessage(frame)
      switch (message.type) {
        case 'sync-step-1':
          this.send(encodeSyncStep2(room.encodeStateAsUpdate(message.stateVector)))
          break
        case 'sync-step-2':
        case 'sync-update':
          room.applyUpdate(message.update, this)
          break
        case 'awareness':
          room.applyAwareness(message.update, this, frame)
          break
        case 'query-awareness': {
          const awareness = room.awarenessFrame()
          if (awareness) this.send(awareness)
          break
        }
        case 'saved-subscribe':
          this.savedSubscribed = true
          this.send(encodeSaved(room.persistedStateVector()))
          break
        case 'auth':
          break
      }
    } catch (error) {
      this.fail(asRelayError(error))
    }
  }

  /** Sends a frame if the socket is open. */
  send(frame: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.deps.metrics.bytesOut.inc(frame.byteLength)
    corkUntilTurnEnd(this.ws)
    this.ws.send(frame, SEND_OPTIONS)
  }

  /** Closes the connection for `error`, with one log line. Nothing more of it is handled. */
  fail(error: RelayError): void {
    if (this.closed) return
    this.deps.metrics.errors.inc({ code: error.code })
    this.deps.logger.warn({ room: this.roomName, conn: this.id, code: error.code, closeCode: error.closeCode, reason: error.message }, 'closing connection')
    this.close(error.closeCode, error.message)
  }

  /** Closes the socket with `code`. */
  close(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.waiting = null
    this.detach()
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, closeReason(reason))
  }

  private detach(): void {
    const room = this.room
    this.room = null
    if (!room) return
    room.removeClient(this)
    this.deps.rooms.unpin(room)
  }

  private onClose(): void {
    if (!this.closed) {
      this.closed = true
      this.waiting = null
    }
    this.detach()
    this.deps.metrics.connections.dec()
  }
}
