/**
 * One relay's edge to a shared Redis: every room it has loaded is shared with every other
 * relay on the same Redis, with no peer list.
 *
 * - Live: an update a relay accepts is appended (XADD) to the room's stream, tagged with the
 *   relay instance; every relay with the room loaded tails the stream (one blocking XREAD
 *   over all its rooms) from its own read position and applies what others wrote.
 * - Trim: each relay records in the room's acks hash the stream position its stored (LevelDB)
 *   state covers; the stream is trimmed below the lowest one (relays silent for `forgetMs`
 *   are forgotten).
 * - Catch-up: on loading a room, a relay asks on a global stream with its state vector; every
 *   relay that holds more (loaded, or only on disk) answers with the diff into the room's
 *   stream. A forced ask (no stored position, stream trimmed past it or gone) is answered
 *   with the delete set too.
 * - Redis away: clients keep being served and acknowledged from local storage; rooms whose
 *   updates could not be appended are republished in full on reconnect; a Redis that came
 *   back empty (new epoch) makes every relay republish its loaded rooms and re-read from 0.
 * - The deny list (revoked tokens) is one for every relay on the Redis (deny-bridge.ts).
 * - Credentials and TLS come from the URL and `ca` (redis-url.ts); logs show the URL with its
 *   password redacted, and a refused password is logged and shown in `/health` as such.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import type { Logger } from 'pino'
import { backoffDelay, type BackoffOptions } from '../topology/backoff.ts'
import { validateRoomName } from '../room/room-name.ts'
import { ACK_AND_TRIM_LUA } from './ack-trim.ts'
import { AwarenessBridge } from './awareness-bridge.ts'
import { DenyBridge } from './deny-bridge.ts'
import { STREAM_START, compareStreamIds, redisKeys, streamIdAgo, type RedisKeys } from './keys.ts'
import { createRedisMetrics, type RedisMetrics } from './redis-metrics.ts'
import { isAuthFailure, redactRedisUrl, redisError, tlsOptions } from './redis-url.ts'
import { RedisOrigin, type RedisContext, type RedisRoom } from './surface.ts'

/** Options of the Redis edge. */
export interface RedisOptions {
  /**
   * `redis://[USER:PASSWORD@]HOST:PORT[/DB]`, or `rediss://` for TLS (the server's certificate
   * is verified). With a password but no user, the default user; with both, an ACL user.
   */
  url: string
  /** CA certificate(s), PEM, a `rediss://` server's certificate is verified against (default: the system's CAs). */
  ca?: string | Buffer
  /** This relay's id, stable across restarts and unique among the relays on this Redis. */
  id: string
  /** Key prefix (default `tandem:`). */
  prefix?: string
  /** Record read positions and trim this often, ms (default 1000). */
  checkpointMs?: number
  /** Forget a relay's read position after this long without a checkpoint, ms (default 10 min). */
  forgetMs?: number
  /** Longest blocking read, ms (default 5000). */
  blockMs?: number
  /** Reconnect delays (default 100 ms doubling to 2 s, jittered). */
  backoff?: BackoffOptions
  random?: () => number
}

interface RoomState {
  room: RedisRoom
  key: string
  /** Last stream id applied (or skipped as our own). */
  pos: string
  /** True once the read position is set and the room is in the blocking read. */
  reading: boolean
  ackedPos: string | null
  ackedAt: number
  /** When this relay last asked back after another's ask showed it lacked something. */
  askedBackAt: number
}

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]>

const MIN_UPDATE_BYTES = 2 // an empty Yjs update: no structs, empty delete set

function fieldsOf(raw: Buffer[]): Map<string, Buffer> {
  const fields = new Map<string, Buffer>()
  for (let i = 0; i + 1 < raw.length; i += 2) fields.set((raw[i] as Buffer).toString(), raw[i + 1] as Buffer)
  return fields
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

/** True when state vector `have` holds every struct `need` names. */
function covers(have: Uint8Array, need: Uint8Array): boolean {
  const h = have.length > 0 ? Y.decodeStateVector(have) : new Map<number, number>()
  const n = need.length > 0 ? Y.decodeStateVector(need) : new Map<number, number>()
  for (const [client, clock] of n) if ((h.get(client) ?? 0) < clock) return false
  return true
}

export class RedisNode {
  /** `<id>#<boot nonce>`: entries tagged with it are this process's own. */
  readonly instance: string
  readonly metrics: RedisMetrics
  private readonly keys: RedisKeys
  private readonly cmd: Redis
  private readonly reader: Redis
  private readonly sub: Redis
  private readonly awareness: AwarenessBridge
  private readonly deny: DenyBridge
  private readonly logger: Logger
  private readonly rooms = new Map<string, RoomState>()
  private readonly dirty = new Set<string>()
  private readonly origin: RedisOrigin
  private readonly checkpointMs: number
  private readonly forgetMs: number
  private readonly blockMs: number
  private epoch: string | null = null
  /** Bumped when Redis came back empty: reads issued before are discarded. */
  private generation = 0
  private askPos = STREAM_START
  private wakePos = STREAM_START
  private live = false
  private everLive = false
  private stopped = false
  private resyncing: Promise<void> | null = null
  /** Counts losses of connection, so a resync that raced one is redone. */
  private downs = 0
  private liveWaiters: Array<() => void> = []
  private reportedDown = false
  /** Why Redis last refused this relay's credentials (cleared once connected). */
  private authFailure: string | null = null
  private checkpointTimer: NodeJS.Timeout | null = null
  private checkpointing = false
  private readLoopDone: Promise<void> = Promise.resolve()
  /** Names this relay's read positions: its `--id`, or its instance while another relay holds that id. */
  private ackId: string
  private readonly leaseMs: number
  private leaseChecked = false

  constructor(private readonly options: RedisOptions, private readonly ctx: RedisContext) {
    this.instance = `${options.id}#${randomBytes(4).toString('hex')}`
    this.origin = new RedisOrigin(this.instance)
    this.keys = redisKeys(options.prefix)
    this.checkpointMs = options.checkpointMs ?? 1000
    this.forgetMs = options.forgetMs ?? 600_000
    this.blockMs = options.blockMs ?? 5000
    this.ackId = options.id
    this.leaseMs = Math.max(3000, 3 * this.checkpointMs)
    this.logger = ctx.logger.child({ part: 'redis', relay: options.id })
    this.metrics = createRedisMetrics(ctx.metrics)
    const backoff = options.backoff ?? { initialMs: 100, maxMs: 2000 }
    const random = options.random ?? Math.random
    const common = {
      protocol: 2 as const,
      lazyConnect: true,
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails at once. With 1, ioredis kept it
      // through the first redial and, not resending it (below), never settled it: a blocking
      // read lost to a blip whose first redial succeeded hung the read loop for good.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => backoffDelay(times - 1, backoff, random),
      ...tlsOptions(options.url, options.ca),
    }
    // socketTimeout: a Redis that went silent (no RST) is treated as gone and redialled.
    this.cmd = new Redis(options.url, { ...common, socketTimeout: 5000, connectionName: `tandem:${this.instance}:cmd` })
    this.reader = new Redis(options.url, { ...common, socketTimeout: this.blockMs + 5000, connectionName: `tandem:${this.instance}:read` })
    // Pub/sub for awareness and deny-list changes, on its own connection (subscriptions are renewed on 'ready').
    this.sub = new Redis(options.url, { ...common, connectionName: `tandem:${this.instance}:sub` })
    this.sub.on('error', () => { /* reported through cmd/read; awareness is ephemeral, the deny list syncs on 'ready' */ })
    this.awareness = new AwarenessBridge(this.instance, this.keys.awareness, this.cmd, this.sub, this.metrics, this.logger)
    this.deny = new DenyBridge({
      instance: this.instance, hash: this.keys.deny, channel: this.keys.denyChannel,
      cmd: this.cmd, sub: this.sub, denyList: ctx.denyList, metrics: this.metrics, logger: this.logger,
    })
    this.cmd.defineCommand('tandemAckTrim', { numberOfKeys: 2, lua: ACK_AND_TRIM_LUA })
    for (const [name, client] of [['cmd', this.cmd], ['read', this.reader]] as const) {
      client.on('error', (err: Error) => this.down(`${name}: ${err.message}`))
      client.on('close', () => this.down(`${name}: connection closed`))
      client.on('ready', () => this.maybeResync())
    }
  }

  /** Connects (in the background: the relay serves its clients whether Redis is there or not). */
  start(): void {
    this.ctx.health.set('redis', { ok: false, detail: 'connecting' })
    this.metrics.up.set(0)
    for (const client of [this.cmd, this.reader, this.sub]) client.connect().catch(() => { /* retried by retryStrategy; reported by 'error' */ })
    this.readLoopDone = this.readLoop()
    this.checkpointTimer = setInterval(() => void this.checkpoint(), this.checkpointMs)
    this.checkpointTimer.unref()
  }

  /** Records final read positions (when connected) and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return
    if (this.checkpointTimer) clearInterval(this.checkpointTimer)
    if (this.live) {
      await Promise.allSettled([...this.rooms.values()].filter((s) => s.reading).map((s) => this.ack(s, true)))
    }
    this.stopped = true
    this.deny.stop()
    await this.deny.idle()
    if (this.live && this.ackId === this.options.id) {
      // A graceful restart reclaims its id at once (a kill -9 waits out the lease).
      await this.cmd.call('EVAL', "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1,
        this.keys.idLease(this.options.id), this.instance).catch(() => undefined)
    }
    for (const wake of this.liveWaiters.splice(0)) wake()
    this.reader.disconnect()
    this.cmd.disconnect()
    this.sub.disconnect()
    await this.readLoopDone
    this.ctx.health.delete('redis')
  }

  /** True while connected and caught up. */
  isLive(): boolean {
    return this.live
  }

  // ---- relay hooks ----------------------------------------------------------------------

  /** A room was loaded: start tailing its stream (and ask for what others hold). */
  onRoomLoaded(room: RedisRoom): void {
    const key = this.keys.log(room.name)
    const state: RoomState = { room, key, pos: STREAM_START, reading: false, ackedPos: null, ackedAt: 0, askedBackAt: 0 }
    this.rooms.set(room.name, state)
    this.awareness.add(room)
    if (this.live) this.attachSoon(state, 0)
  }

  /** Attaches `state` now (or after `delayMs`), retrying while connected; a reconnect attaches it otherwise. */
  private attachSoon(state: RoomState, delayMs: number): void {
    const run = (): void => {
      if (!this.live || state.reading || this.rooms.get(state.room.name) !== state) return
      this.attach(state, false).catch((err) => {
        this.failed(err, 'attach')
        this.attachSoon(state, 500)
      })
    }
    if (delayMs === 0) return run()
    setTimeout(run, delayMs).unref()
  }

  /** A room was unloaded (after its last flush): record its position, stop tailing. */
  onRoomUnloaded(room: RedisRoom): void {
    const state = this.rooms.get(room.name)
    if (!state || state.room !== room) return
    this.rooms.delete(room.name)
    this.awareness.remove(room.name)
    if (this.live && state.reading && !this.stopped) void this.ack(state, false).catch((err) => this.failed(err, 'ack'))
  }

  /** An update was applied: append it to the room's stream unless it came from there. */
  onUpdate(room: RedisRoom, update: Uint8Array, origin: unknown): void {
    if (origin instanceof RedisOrigin) return
    if (!this.live) {
      this.markDirty(room.name)
      return
    }
    this.publish(room.name, update, 'u', 'update').catch(() => this.markDirty(room.name))
  }

  // ---- connection state -----------------------------------------------------------------

  private down(reason: string): void {
    if (this.stopped) return
    const authFailure = isAuthFailure(reason)
    if (authFailure && this.authFailure === null) {
      this.logger.error({ reason, url: redactRedisUrl(this.options.url) }, 'Redis refused the credentials in --redis (user and password): serving local clients only, retrying')
    } else if (!this.reportedDown && !authFailure) {
      this.logger.warn({ reason }, 'Redis unreachable: serving local clients only, will catch up on reconnect')
    }
    this.reportedDown = true
    if (authFailure) this.authFailure = reason
    this.live = false
    this.downs++
    this.metrics.up.set(0)
    // The connection closing after a refused AUTH must not hide why it was refused.
    const detail = this.authFailure !== null && reason.endsWith('connection closed') ? this.authFailure : reason
    this.ctx.health.set('redis', { ok: false, detail })
  }

  private maybeResync(): void {
    if (this.stopped || this.resyncing || this.cmd.status !== 'ready' || this.reader.status !== 'ready') return
    const downs = this.downs
    this.resyncing = this.resync().then(
      () => {
        // Lost again meanwhile: what was written since is dirty and needs another pass.
        if (this.downs !== downs || this.cmd.status !== 'ready' || this.reader.status !== 'ready') return false
        this.goLive()
        return true
      },
      (err: unknown) => {
        this.down(`resync failed: ${(err as Error).message}`)
        return false
      },
    ).then((ok) => {
      this.resyncing = null
      if (!ok && !this.stopped) setTimeout(() => this.maybeResync(), 200).unref()
    })
  }

  private goLive(): void {
    if (this.everLive) this.metrics.reconnects.inc()
    this.everLive = true
    this.live = true
    this.reportedDown = false
    this.authFailure = null
    this.metrics.up.set(1)
    this.ctx.health.set('redis', { ok: true })
    this.logger.info({ url: redactRedisUrl(this.options.url), rooms: this.rooms.size }, 'Redis connected and caught up')
    for (const wake of this.liveWaiters.splice(0)) wake()
  }

  /** After (re)connecting: detect a Redis restarted empty, republish what it lacks, reattach rooms. */
  private async resync(): Promise<void> {
    const mine = randomBytes(8).toString('hex')
    await this.cmd.call('SET', this.keys.epoch, mine, 'NX')
    const epoch = String(await this.cmd.call('GET', this.keys.epoch))
    const reset = this.epoch !== null && epoch !== this.epoch
    if (this.epoch === null) this.askPos = streamIdAgo(10_000)
    this.epoch = epoch
    await this.holdIdLease()
    if (reset) {
      this.metrics.resets.inc()
      this.logger.warn({ rooms: this.rooms.size }, 'Redis came back empty: republishing every loaded room')
      this.deny.sync() // emptied without a reconnect (FLUSHALL): refill the deny list too
      this.generation++
      this.askPos = STREAM_START
      this.wakePos = STREAM_START
      for (const state of this.rooms.values()) {
        state.reading = false
        state.ackedPos = null
        this.markDirty(state.room.name)
      }
    }
    for (const state of [...this.rooms.values()]) {
      if (state.reading && await this.trimmedPast(state.key, state.pos)) await this.ask(state.room, true)
    }
    // Last, and until none is left: rooms loaded or dirtied meanwhile are attached and published before going live.
    for (;;) {
      const unattached = [...this.rooms.values()].find((s) => !s.reading)
      if (unattached) {
        await this.attach(unattached, reset)
        continue
      }
      if (this.dirty.size === 0) break
      await this.republish(this.dirty.values().next().value as string)
    }
  }

  /** Publishes the whole state of a room whose updates did not all reach Redis. */
  private async republish(name: string): Promise<void> {
    const room = this.rooms.get(name)?.room ?? await this.ctx.rooms.get(name)
    this.dirty.delete(name)
    try {
      await this.publish(name, room.encodeStateAsUpdate(), 's', 'republish')
    } catch (err) {
      this.markDirty(name)
      throw err
    } finally {
      this.metrics.unpublishedRooms.set(this.dirty.size)
    }
  }

  // ---- reading --------------------------------------------------------------------------

  private waitLive(): Promise<void> {
    if (this.live || this.stopped) return Promise.resolve()
    return new Promise((resolve) => this.liveWaiters.push(resolve))
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      await this.waitLive()
      if (this.stopped) return
      const reading = [...this.rooms.values()].filter((s) => s.reading)
      const keys = [this.keys.ask, this.keys.wake(this.instance), ...reading.map((s) => s.key)]
      const ids = [this.askPos, this.wakePos, ...reading.map((s) => s.pos)]
      const generation = this.generation
      let reply: StreamReply | null
      try {
        reply = (await this.reader.callBuffer('XREAD', 'COUNT', 256, 'BLOCK', this.blockMs, 'STREAMS', ...keys, ...ids)) as StreamReply | null
      } catch (err) {
        if (!this.stopped) this.down(`read: ${(err as Error).message}`)
        continue
      }
      if (!reply || generation !== this.generation) continue
      const states = new Map(reading.map((s) => [s.key, s]))
      for (const [keyBuf, items] of reply) {
        const key = keyBuf.toString()
        if (key === this.keys.ask) this.onAsks(items)
        else if (key === this.keys.wake(this.instance)) this.wakePos = (items.at(-1)?.[0] ?? Buffer.from(this.wakePos)).toString()
        else {
          const state = states.get(key)
          if (state && this.rooms.get(state.room.name) === state) this.applyEntries(state, items)
        }
      }
    }
  }

  private applyEntries(state: RoomState, items: Array<[Buffer, Buffer[]]>): void {
    for (const [idBuf, raw] of items) {
      state.pos = idBuf.toString()
      const fields = fieldsOf(raw)
      const from = fields.get('r')?.toString()
      const update = fields.get('u')
      if (from === this.instance || !update) continue
      const kind = fields.get('k')?.toString() === 's' ? 'catch-up' : 'update'
      this.metrics.entriesReceived.inc({ kind })
      this.metrics.bytesReceived.inc(update.byteLength)
      try {
        let bytes: Uint8Array = update
        // Catch-up answers carry whole states: apply only what this copy lacks (plus deletions).
        if (kind === 'catch-up') bytes = Y.diffUpdate(update, state.room.stateVector())
        if (kind === 'catch-up' && bytes.byteLength <= MIN_UPDATE_BYTES) continue
        state.room.applyUpdate(bytes, from ? new RedisOrigin(from) : this.origin)
      } catch (err) {
        this.logger.warn({ room: state.room.name, from, id: state.pos, err }, 'update from Redis refused')
      }
    }
  }

  private onAsks(items: Array<[Buffer, Buffer[]]>): void {
    for (const [idBuf, raw] of items) {
      this.askPos = idBuf.toString()
      const fields = fieldsOf(raw)
      const from = fields.get('r')?.toString()
      const name = fields.get('n')?.toString()
      const sv = fields.get('s')
      if (from === this.instance || !name || !sv) continue
      try {
        validateRoomName(name) // whoever else writes to this Redis must not make relays load junk
      } catch {
        this.logger.warn({ from, room: name.slice(0, 80) }, 'ask for an invalid room name ignored')
        continue
      }
      this.metrics.entriesReceived.inc({ kind: 'ask' })
      void this.answer(name, new Uint8Array(sv), fields.get('f')?.toString() === '1')
        .catch((err) => this.failed(err, 'answer'))
    }
  }

  /** Another relay asked for `name` holding `sv`: publish what it lacks if this relay has more. */
  private async answer(name: string, sv: Uint8Array, forced: boolean): Promise<void> {
    const state = this.rooms.get(name)
    let room = state?.room
    if (room) {
      // The asker holds structs this copy lacks (say, written while Redis was away by a relay
      // that was killed before republishing): ask back, at most once a second per room.
      if (state && !covers(room.stateVector(), sv) && Date.now() - state.askedBackAt > 1000) {
        state.askedBackAt = Date.now()
        await this.ask(room, false)
      }
      if (!forced && covers(sv, room.stateVector())) return
    } else {
      const stored = await this.ctx.storage.getStateVector(name)
      if (!stored || (!forced && covers(sv, stored))) return
      room = await this.ctx.rooms.get(name)
    }
    const diff = room.encodeStateAsUpdate(sv)
    if (diff.byteLength <= MIN_UPDATE_BYTES || !this.live) return
    this.metrics.catchUps.inc({ kind: 'answered' })
    await this.publish(name, diff, 's', 'catch-up')
  }

  // ---- writing --------------------------------------------------------------------------

  private async publish(room: string, update: Uint8Array, k: 'u' | 's', kind: string): Promise<void> {
    await this.cmd.callBuffer('XADD', this.keys.log(room), '*', 'r', this.instance, 'k', k, 'u', asBuffer(update))
    this.metrics.entriesSent.inc({ kind })
    this.metrics.bytesSent.inc(update.byteLength)
  }

  private markDirty(room: string): void {
    this.dirty.add(room)
    this.metrics.unpublishedRooms.set(this.dirty.size)
  }

  /** Sets a newly loaded room's read position (its stored one, or 0) and asks for what others hold. */
  private async attach(state: RoomState, afterReset: boolean): Promise<void> {
    const stored = await this.cmd.call('HGET', this.keys.acks(state.room.name), this.ackId) as string | null
    if (this.rooms.get(state.room.name) !== state) return
    const storedPos = stored?.split('|')[0] ?? null
    const pos = storedPos ?? STREAM_START
    const gap = storedPos === null || await this.trimmedPast(state.key, pos)
    if (this.rooms.get(state.room.name) !== state) return
    state.pos = pos
    state.reading = true
    await this.wake()
    // After a reset every relay republishes its loaded rooms; only relays holding it on disk are asked.
    await this.ask(state.room, gap && !afterReset)
    // Deletions do not show in a state vector: publish this copy's delete set once, so deletions
    // stored here but never published (killed while Redis was away) still reach the others.
    const deletes = state.room.encodeStateAsUpdate(state.room.stateVector())
    if (deletes.byteLength > MIN_UPDATE_BYTES) await this.publish(state.room.name, deletes, 's', 'deletes')
  }

  /** True when stream `key` lost entries after `pos` (trimmed, expired, or never existed). */
  private async trimmedPast(key: string, pos: string): Promise<boolean> {
    let info: unknown[]
    try {
      info = await this.cmd.call('XINFO', 'STREAM', key) as unknown[]
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return true
      throw err
    }
    for (let i = 0; i + 1 < info.length; i += 2) {
      if (String(info[i]) === 'max-deleted-entry-id') return compareStreamIds(String(info[i + 1]), pos) > 0
    }
    return false
  }

  private async ask(room: RedisRoom, forced: boolean): Promise<void> {
    const sv = room.stateVector()
    await this.cmd.callBuffer('XADD', this.keys.ask, 'MAXLEN', '~', 10_000, '*',
      'r', this.instance, 'n', room.name, 's', asBuffer(sv), 'f', forced ? '1' : '0')
    this.metrics.entriesSent.inc({ kind: 'ask' })
    this.metrics.bytesSent.inc(sv.byteLength)
    this.metrics.catchUps.inc({ kind: forced ? 'asked-forced' : 'asked' })
  }

  private async wake(): Promise<void> {
    const key = this.keys.wake(this.instance)
    await this.cmd.call('XADD', key, 'MAXLEN', 1, '*', 'w', '1')
    await this.cmd.call('PEXPIRE', key, 60_000)
  }

  // ---- positions and trimming -----------------------------------------------------------

  /**
   * Holds the lease on this relay's id. Another live relay holding it (two relays given one
   * `--id`) would overwrite this one's read positions and let the stream be trimmed past what
   * it read; positions are then kept under the instance instead (a restart asks, forced).
   */
  private async holdIdLease(): Promise<void> {
    if (this.ackId !== this.options.id) return
    const key = this.keys.idLease(this.options.id)
    // At first, wait out a lease left by this relay's previous life (killed: no one renews it).
    const deadline = this.leaseChecked ? 0 : Date.now() + this.leaseMs + 500
    this.leaseChecked = true
    let holder: string | null
    for (;;) {
      const held = await this.cmd.call('SET', key, this.instance, 'NX', 'PX', this.leaseMs)
      holder = held === 'OK' ? this.instance : await this.cmd.call('GET', key) as string | null
      if (holder === null || holder === this.instance || Date.now() > deadline || this.stopped) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    if (holder === null || holder === this.instance) {
      await this.cmd.call('PEXPIRE', key, this.leaseMs)
      return
    }
    this.ackId = this.instance
    for (const state of this.rooms.values()) state.ackedPos = null
    this.metrics.idConflict.set(1)
    this.logger.error({ id: this.options.id, holder }, 'another relay on this Redis uses this --id: give every relay a unique, stable --id; keeping read positions per process meanwhile')
  }

  private async checkpoint(): Promise<void> {
    if (!this.live || this.checkpointing) return
    this.checkpointing = true
    try {
      // FLUSHALL or a restart between two reconnects would otherwise go unnoticed.
      if (String(await this.cmd.call('GET', this.keys.epoch)) !== this.epoch) {
        this.down('Redis lost its contents')
        this.maybeResync()
        return
      }
      await this.holdIdLease()
      // A write Redis refused while connected (e.g. maxmemory) is retried here, whole.
      for (const name of [...this.dirty]) if (this.live) await this.republish(name)
      const now = Date.now()
      for (const state of [...this.rooms.values()]) {
        if (!state.reading || !this.live) continue
        if (state.pos === state.ackedPos && now - state.ackedAt < this.forgetMs / 4) continue
        await this.ack(state, true)
      }
    } catch (err) {
      this.failed(err, 'checkpoint')
    } finally {
      this.checkpointing = false
    }
  }

  /** Records that this relay's stored state covers `state.pos` (flushing first), then trims. */
  private async ack(state: RoomState, flush: boolean): Promise<void> {
    const pos = state.pos
    if (flush) await state.room.flush()
    if (pos === STREAM_START) return
    const now = Date.now()
    const trimmed = await (this.cmd as unknown as { tandemAckTrim(...args: Array<string | number>): Promise<number> })
      .tandemAckTrim(this.keys.acks(state.room.name), state.key, this.ackId, pos, now, this.forgetMs, this.forgetMs * 6)
    state.ackedPos = pos
    state.ackedAt = now
    if (trimmed > 0) this.metrics.trimmed.inc(trimmed)
  }

  private failed(err: unknown, what: string): void {
    if (this.stopped) return
    // Not the error object itself: ioredis errors carry the failed command's arguments.
    this.logger.warn({ err: redisError(err), what }, 'Redis step failed; retried on reconnect')
  }
}
