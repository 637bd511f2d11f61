/**
 * Awareness (cursors, names) between relays on one Redis, over pub/sub: it is ephemeral
 * (clients renew their state every 15 s and a state unrenewed for 30 s expires), so losing a
 * message while Redis is away costs a cursor for a few seconds, never a write. Documents
 * travel through streams (redis-node.ts); only awareness uses pub/sub.
 *
 * Message: the publishing relay instance, a NUL byte, then a y-protocols awareness update.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { applyAwarenessUpdate, encodeAwarenessUpdate, type Awareness } from 'y-protocols/awareness'
import type { RedisMetrics } from './redis-metrics.ts'
import { RedisOrigin } from './surface.ts'

/** A room as the bridge sees it. */
export interface AwarenessRoom {
  readonly name: string
  readonly awareness: Awareness
}

type Change = { added: number[]; updated: number[]; removed: number[] }

export class AwarenessBridge {
  private readonly rooms = new Map<string, { room: AwarenessRoom; off: () => void }>()
  private readonly byChannel = new Map<string, string>()

  constructor(
    private readonly instance: string,
    private readonly channel: (room: string) => string,
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly metrics: RedisMetrics,
    private readonly logger: Logger,
  ) {
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString(), message))
    // Rooms loaded while the connection was down were not subscribed (no offline queue: a long
    // outage with rooms coming and going must not pile up commands).
    sub.on('ready', () => {
      const channels = [...this.byChannel.keys()]
      if (channels.length > 0) this.sub.subscribe(...channels).catch(() => { /* retried on the next 'ready' */ })
    })
  }

  /** Starts sharing `room`'s awareness (subscribes; ioredis resubscribes after a reconnect). */
  add(room: AwarenessRoom): void {
    this.remove(room.name)
    const channel = this.channel(room.name)
    const onUpdate = (change: Change, origin: unknown): void => {
      if (origin instanceof RedisOrigin) return
      const changed = [...change.added, ...change.updated, ...change.removed]
      if (changed.length > 0) this.publish(channel, encodeAwarenessUpdate(room.awareness, changed))
    }
    room.awareness.on('update', onUpdate)
    this.rooms.set(room.name, { room, off: () => room.awareness.off('update', onUpdate) })
    this.byChannel.set(channel, room.name)
    if (this.sub.status === 'ready') {
      this.sub.subscribe(channel).catch((err: Error) => this.logger.debug({ room: room.name, err: err.message }, 'awareness subscribe failed; retried on reconnect'))
    }
  }

  /** Stops sharing `name`'s awareness. */
  remove(name: string): void {
    const entry = this.rooms.get(name)
    if (!entry) return
    entry.off()
    this.rooms.delete(name)
    const channel = this.channel(name)
    this.byChannel.delete(channel)
    if (this.sub.status === 'ready') this.sub.unsubscribe(channel).catch(() => { /* gone with the connection */ })
  }

  private publish(channel: string, update: Uint8Array): void {
    if (this.pub.status !== 'ready') return // ephemeral: clients renew within 15 s
    const message = Buffer.concat([Buffer.from(`${this.instance}\0`), update])
    this.pub.publish(channel, message).then(
      () => {
        this.metrics.entriesSent.inc({ kind: 'awareness' })
        this.metrics.bytesSent.inc(update.byteLength)
      },
      () => { /* ephemeral */ },
    )
  }

  private receive(channel: string, message: Buffer): void {
    const name = this.byChannel.get(channel)
    const entry = name === undefined ? undefined : this.rooms.get(name)
    const nul = message.indexOf(0)
    if (!entry || nul < 0) return
    const from = message.subarray(0, nul).toString()
    if (from === this.instance) return
    const update = message.subarray(nul + 1)
    this.metrics.entriesReceived.inc({ kind: 'awareness' })
    this.metrics.bytesReceived.inc(update.byteLength)
    try {
      applyAwarenessUpdate(entry.room.awareness, update, new RedisOrigin(from))
    } catch (err) {
      this.logger.warn({ room: name, from, err }, 'awareness update from Redis refused')
    }
  }
}
