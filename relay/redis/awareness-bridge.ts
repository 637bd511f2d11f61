/**
 * Awareness (cursors, names) between relays on one Redis, over pub/sub: it is ephemeral
 * (clients renew their state every 15 s and a state unrenewed for 30 s expires), so losing a
 * message while Redis is away costs a cursor for a few seconds, never a write. Documents
 * travel through streams (redis-node.ts); only awareness uses pub/sub.
 *
 * Message: the publishing relay instance, a NUL byte, then a y-protocols awareness update; with
 * nothing after the NUL byte, a query: every relay answers with its own clients' states.
 *
 * A subscriber that reconnects missed what was published meanwhile: once its subscriptions are
 * renewed ({@link AwarenessBridge.resubscribe}), the relay publishes its own clients' states and
 * a query per room ({@link AwarenessBridge.refresh}), so both sides of the gap are resent.
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
  private readonly rooms = new Map<string, { room: AwarenessRoom; off: () => void; remote: Set<number> }>()
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
  }

  /**
   * Subscribes to every room's channel (run by the node when the subscriber is ready: rooms
   * loaded while it was down were not subscribed, and there is no offline queue, so a long
   * outage with rooms coming and going does not pile up commands). Rejects when Redis refuses.
   */
  async resubscribe(): Promise<void> {
    const channels = [...this.byChannel.keys()]
    if (channels.length > 0) await this.sub.subscribe(...channels)
  }

  /** Publishes every room's local clients' states and asks the other relays for theirs. */
  refresh(): void {
    for (const [name, { room }] of this.rooms) {
      this.publishLocal(name)
      this.publish(this.channel(room.name), new Uint8Array(0))
    }
  }

  /** Starts sharing `room`'s awareness (subscribes; ioredis resubscribes after a reconnect). */
  add(room: AwarenessRoom): void {
    this.remove(room.name)
    const channel = this.channel(room.name)
    const remote = new Set<number>()
    const onUpdate = (change: Change, origin: unknown): void => {
      if (origin instanceof RedisOrigin) {
        for (const id of [...change.added, ...change.updated]) remote.add(id)
        for (const id of change.removed) remote.delete(id)
        return
      }
      const changed = [...change.added, ...change.updated, ...change.removed]
      if (changed.length > 0) this.publish(channel, encodeAwarenessUpdate(room.awareness, changed))
    }
    room.awareness.on('update', onUpdate)
    this.rooms.set(room.name, { room, off: () => room.awareness.off('update', onUpdate), remote })
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

  /** Publishes the states of `name`'s clients connected to this relay (not those heard from Redis). */
  private publishLocal(name: string): void {
    const entry = this.rooms.get(name)
    if (!entry) return
    const local = [...entry.room.awareness.getStates().keys()].filter((id) => !entry.remote.has(id))
    if (local.length > 0) this.publish(this.channel(name), encodeAwarenessUpdate(entry.room.awareness, local))
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
    if (update.byteLength === 0) {
      this.metrics.entriesReceived.inc({ kind: 'awareness-query' })
      this.publishLocal(entry.room.name)
      return
    }
    this.metrics.entriesReceived.inc({ kind: 'awareness' })
    this.metrics.bytesReceived.inc(update.byteLength)
    try {
      applyAwarenessUpdate(entry.room.awareness, update, new RedisOrigin(from))
    } catch (err) {
      this.logger.warn({ room: name, from, err }, 'awareness update from Redis refused')
    }
  }
}
