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
 * - Catch-up: on loading a room, a relay asks on a global stream with its state vector and a
 *   fingerprint of its delete set; every relay that holds more (structs the asker lacks, or a
 *   delete set that differs; loaded, or only on disk) answers with the diff and its delete set
 *   into the room's stream, then replies on the asker's wake stream. The room is caught up once
 *   every live relay replied and the read passed their answers (catch-up.ts). A relay that never
 *   held a room learns it exists from the set of rooms (`tandem:rooms`), and an HTTP read of it
 *   waits for that catch-up ({@link RedisNode.catchUpRoom}).
 * - Redis away: clients keep being served and acknowledged from local storage; rooms whose
 *   updates could not be appended are recorded in the data directory before they are
 *   acknowledged (edge-state.ts) and republished in full on reconnect, loaded or not, after a
 *   kill -9 too; a Redis that came back empty (new epoch) makes every relay republish its loaded
 *   rooms and re-read from 0.
 * - Restored data: a data directory whose lineage is older than the one Redis recorded for this
 *   relay (restored from a copy) makes the relay catch up every room it stores, at once.
 * - Health: `redis` is ok (and `tandem_redis_up` 1) only when the command, read and subscriber
 *   connections are up and the rooms attached at the last reconnect are caught up; a subscriber
 *   that comes back republishes its clients' awareness and asks the others for theirs.
 * - The deny list (revoked tokens) is one for every relay on the Redis (deny-bridge.ts); so are
 *   the history's named, restored and deleted versions (version-bridge.ts).
 * - Credentials and TLS come from the URL and `ca` (redis-url.ts); logs show the URL with its
 *   password redacted, and a refused password is logged and shown in `/health` as such.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import type { Logger } from 'pino'
import { backoffDelay, type BackoffOptions } from '../topology/backoff.ts'
import { validateRoomName } from '../room/room-name.ts'
import { ACK_AND_TRIM_LUA } from './ack-trim.ts'
import { AwarenessBridge } from './awareness-bridge.ts'
import { PendingAsks, PositionWaits, deleteSetFingerprint } from './catch-up.ts'
import { EdgeState } from './edge-state.ts'
import { DenyBridge } from './deny-bridge.ts'
import { VersionBridge } from './version-bridge.ts'
import { STREAM_START, compareStreamIds, redisKeys, streamIdAgo, type RedisKeys } from './keys.ts'
import { lastGeneratedId, streamEnd, trimmedPast } from './stream-info.ts'
import { IdLease } from './id-lease.ts'
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
  /** The relay's data directory: rooms not yet published and the data's lineage are kept there (default: in memory only). */
  dataDir?: string
  /** Longest wait for other relays' catch-up answers, and then for the read to pass them, ms (default 3000). */
  catchUpMs?: number
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
  /** Resolves once the room is attached (its read position set, its catch-up asked). */
  attached: Promise<void>
  onAttached: () => void
  /** The catch-up of the last attach: true once caught up, false when the wait ran out. */
  caughtUp: Promise<boolean> | null
}

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]>

const MIN_UPDATE_BYTES = 2 // an empty Yjs update: no structs, empty delete set
/** Rooms whose last published stream id is remembered (oldest forgotten first). */
const MAX_PUBLISHED_TRACKED = 10_000

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

/**
 * ioredis listens for one 'error' per socket (`once`), but a TLS socket whose handshake fails
 * can emit a second (the peer's alert after our certificate refusal): without a listener that
 * second error is an uncaught exception that ends the process. Called from the client's error
 * handler, while `client.stream` is the failing socket; the first error was reported already.
 */
const guardedStreams = new WeakSet<object>()
function handleLaterStreamErrors(client: Redis): void {
  const stream = (client as unknown as { stream?: NodeJS.EventEmitter }).stream
  if (!stream || guardedStreams.has(stream)) return
  guardedStreams.add(stream)
  stream.on('error', () => { /* already reported through the client's first 'error' */ })
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
  private readonly versions: VersionBridge | null
  private readonly logger: Logger
  private readonly rooms = new Map<string, RoomState>()
  /** Per room, the newest stream id this relay wrote (a stream ending before it lost entries). */
  private readonly published = new Map<string, string>()
  /** Rooms whose updates did not all reach Redis: republished in full on the next chance. */
  private readonly dirty = new Set<string>()
  /** The persisted record (a superset of `dirty`: also rooms stored while an append was in flight) and the lineage. */
  private readonly edge: EdgeState
  /** Appends of live updates in flight, per room. */
  private readonly inFlight = new Map<string, number>()
  private readonly asks = new PendingAsks()
  private readonly positions = new PositionWaits()
  /** Delete-set fingerprints of rooms stored here but unloaded, with the state vector they were taken at. */
  private readonly fingerprints = new Map<string, { sv: Uint8Array; fp: string }>()
  private readonly catchUpMs: number
  /** Rooms attached at the last reconnect whose catch-up is still running (health waits for them). */
  private readonly reconnectCatchUps = new Set<string>()
  /** Why the command/read side is not live (null while live). */
  private downDetail: string | null = 'connecting'
  private subUp = false
  private subDetail = 'subscriber: connecting'
  /** The lineage Redis holds for this relay (read at the first connection). */
  private lineageSeen = 0
  /** Rooms to catch up because the data directory is older than Redis's record of it (null: none). */
  private restored: string[] | null = null
  private sweeping = false
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
  private readonly lease: IdLease

  constructor(private readonly options: RedisOptions, private readonly ctx: RedisContext) {
    this.instance = `${options.id}#${randomBytes(4).toString('hex')}`
    this.origin = new RedisOrigin(this.instance)
    this.keys = redisKeys(options.prefix)
    this.checkpointMs = options.checkpointMs ?? 1000
    this.forgetMs = options.forgetMs ?? 600_000
    this.blockMs = options.blockMs ?? 5000
    this.catchUpMs = options.catchUpMs ?? 3000
    this.logger = ctx.logger.child({ part: 'redis', relay: options.id })
    this.metrics = createRedisMetrics(ctx.metrics)
    this.edge = new EdgeState(options.dataDir ? join(options.dataDir, 'redis-edge.json') : undefined, this.logger)
    for (const room of this.edge.unpublished()) this.dirty.add(room)
    this.metrics.unpublishedRooms.set(this.dirty.size)
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
    // Renewed by us only: ioredis 6.0's own resubscribe on 'ready' has no rejection handler, so a
    // link dropped before its reply was an unhandled rejection that killed the relay (ioredis#2187).
    this.sub = new Redis(options.url, { ...common, autoResubscribe: false, connectionName: `tandem:${this.instance}:sub` })
    this.sub.on('error', (err: Error) => {
      handleLaterStreamErrors(this.sub)
      this.subDown(`subscriber: ${err.message}`)
    })
    this.sub.on('close', () => this.subDown('subscriber: connection closed'))
    this.sub.on('ready', () => void this.subReady())
    this.awareness = new AwarenessBridge(this.instance, this.keys.awareness, this.cmd, this.sub, this.metrics, this.logger)
    this.deny = new DenyBridge({
      instance: this.instance, hash: this.keys.deny, channel: this.keys.denyChannel,
      cmd: this.cmd, sub: this.sub, denyList: ctx.denyList, metrics: this.metrics, logger: this.logger,
    })
    this.versions = ctx.versions
      ? new VersionBridge({
          instance: this.instance, marks: this.keys.versions, order: this.keys.versionsOrder, channel: this.keys.versionsChannel,
          cmd: this.cmd, sub: this.sub, versions: ctx.versions, metrics: this.metrics, logger: this.logger,
        })
      : null
    this.cmd.defineCommand('tandemAckTrim', { numberOfKeys: 2, lua: ACK_AND_TRIM_LUA })
    this.lease = new IdLease(this.cmd, this.keys, options.id, this.instance, Math.max(3000, 3 * this.checkpointMs), this.metrics, this.logger)
    for (const [name, client] of [['cmd', this.cmd], ['read', this.reader]] as const) {
      client.on('error', (err: Error) => {
        handleLaterStreamErrors(client)
        this.down(`${name}: ${err.message}`)
      })
      client.on('close', () => this.down(`${name}: connection closed`))
      client.on('ready', () => this.maybeResync())
    }
  }

  /** Connects (in the background: the relay serves its clients whether Redis is there or not). */
  start(): void {
    this.updateHealth()
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
      await this.recordPositions([...this.rooms.values()].filter((s) => s.reading), true).catch((err) => this.failed(err, 'ack'))
      await this.cmd.call('ZREM', this.keys.live, this.instance).catch(() => undefined)
    }
    this.stopped = true
    this.asks.cancelAll()
    this.positions.cancel()
    this.edge.save()
    this.deny.stop()
    await this.deny.idle()
    this.versions?.stop()
    await this.versions?.idle()
    // A graceful restart reclaims its id at once (a kill -9 waits out the lease).
    if (this.live) await this.lease.release()
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

  /**
   * An HTTP read of `name`, which is not loaded here: when this relay stores it or another relay
   * on the Redis holds it (set `tandem:rooms`), loads it and resolves true once it caught up (or
   * the wait ran out); false at once when no relay holds it, or while Redis is away.
   */
  async catchUpRoom(name: string): Promise<boolean> {
    if (!this.live || this.stopped) return false
    if (!this.rooms.has(name)) {
      const stored = (await this.ctx.storage.getStateVector(name)) !== null
      if (!stored && Number(await this.cmd.call('SISMEMBER', this.keys.rooms, name)) !== 1) return false
      await this.ctx.rooms.get(name)
    }
    const state = this.rooms.get(name)
    if (!state) return false
    const caughtUp = await this.attachedWithin(state) && await (state.caughtUp ?? Promise.resolve(false))
    if (!caughtUp) this.logger.warn({ room: name }, 'HTTP read of a room from the cluster answered before its catch-up finished')
    return true
  }

  // ---- relay hooks ----------------------------------------------------------------------

  /** A room was loaded: start tailing its stream (and ask for what others hold). */
  onRoomLoaded(room: RedisRoom): void {
    const key = this.keys.log(room.name)
    let onAttached = (): void => undefined
    const attached = new Promise<void>((resolve) => { onAttached = resolve })
    const state: RoomState = { room, key, pos: STREAM_START, reading: false, ackedPos: null, ackedAt: 0, askedBackAt: 0, attached, onAttached, caughtUp: null }
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
    this.positions.cancel(room.name)
    if (this.reconnectCatchUps.delete(room.name)) this.updateHealth()
    this.rememberFingerprint(room)
    if (this.live && state.reading && !this.stopped) void this.ack(state, false).catch((err) => this.failed(err, 'ack'))
  }

  /** An update was applied: append it to the room's stream unless it came from there. */
  onUpdate(room: RedisRoom, update: Uint8Array, origin: unknown): void {
    if (origin instanceof RedisOrigin) return
    const name = room.name
    if (!this.live) {
      this.markDirty(name) // recorded on disk before the update is stored, so before its ack
      return
    }
    this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1)
    const settled = (): void => {
      const left = (this.inFlight.get(name) ?? 1) - 1
      if (left > 0) return void this.inFlight.set(name, left)
      this.inFlight.delete(name)
      if (!this.dirty.has(name)) this.edge.clear(name)
    }
    this.publish(name, update, 'u', 'update').then(settled, () => {
      this.markDirty(name)
      settled()
    })
  }

  /**
   * A room's batch was stored (its ack is sent in the same turn): a room with an append to Redis
   * still in flight is recorded on disk, so a kill -9 before that append lands still republishes it.
   */
  onStored(room: RedisRoom): void {
    if (this.inFlight.has(room.name) || this.dirty.has(room.name)) this.edge.mark(room.name)
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
    // The connection closing after a refused AUTH must not hide why it was refused.
    this.downDetail = this.authFailure !== null && reason.endsWith('connection closed') ? this.authFailure : reason
    this.updateHealth()
  }

  private subDown(reason: string): void {
    if (this.stopped) return
    this.subUp = false
    this.subDetail = reason
    this.updateHealth()
  }

  /** The subscriber is back: renew its subscriptions, then resend the awareness it may have missed. */
  private async subReady(): Promise<void> {
    try {
      await this.awareness.resubscribe()
    } catch (err) {
      this.subDown(`subscriber: subscribing failed: ${(err as Error).message}`)
      return
    }
    if (this.stopped || this.sub.status !== 'ready') return
    this.subUp = true
    this.awareness.refresh()
    this.updateHealth()
  }

  /**
   * `/health`'s `redis` component and `tandem_redis_up`: ok only when the command and read
   * connections are live, the subscriber is up, and the rooms attached at the last reconnect
   * caught up; otherwise the detail names each part that is not, and why.
   */
  private updateHealth(): void {
    if (this.stopped) return
    const parts: string[] = []
    if (!this.live) parts.push(this.downDetail ?? 'connecting')
    if (!this.subUp) parts.push(this.subDetail)
    if (this.live && this.reconnectCatchUps.size > 0) parts.push(`catching up on ${this.reconnectCatchUps.size} room stream(s)`)
    const ok = parts.length === 0
    this.metrics.up.set(ok ? 1 : 0)
    this.ctx.health.set('redis', ok ? { ok: true } : { ok: false, detail: parts.join('; ') })
  }

  private maybeResync(): void {
    if (this.stopped || this.resyncing || this.cmd.status !== 'ready' || this.reader.status !== 'ready') return
    const downs = this.downs
    this.downDetail = 'reconnected: republishing and reattaching rooms'
    this.updateHealth()
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
    this.downDetail = null
    this.reportedDown = false
    this.authFailure = null
    this.updateHealth()
    if (this.reconnectCatchUps.size === 0) this.logCaughtUp()
    else this.logger.info({ url: redactRedisUrl(this.options.url), rooms: this.reconnectCatchUps.size }, 'Redis connected, catching up')
    for (const wake of this.liveWaiters.splice(0)) wake()
    // Awareness published by others while this side was away (the subscriber may have stayed up).
    if (this.subUp) this.awareness.refresh()
    if (this.restored && !this.sweeping) void this.catchUpRestored()
  }

  /** After (re)connecting: detect a Redis restarted empty, republish what it lacks, reattach rooms. */
  private async resync(): Promise<void> {
    const mine = randomBytes(8).toString('hex')
    await this.cmd.call('SET', this.keys.epoch, mine, 'NX')
    const epoch = String(await this.cmd.call('GET', this.keys.epoch))
    const reset = this.epoch !== null && epoch !== this.epoch
    const first = this.epoch === null
    if (first) this.askPos = streamIdAgo(10_000)
    this.epoch = epoch
    await this.holdIdLease()
    this.reconnectCatchUps.clear()
    if (first) await this.checkLineage()
    if (first || reset) await this.announceStoredRooms()
    if (reset) {
      this.metrics.resets.inc()
      this.logger.warn({ rooms: this.rooms.size }, 'Redis came back empty: republishing every loaded room')
      this.deny.sync() // emptied without a reconnect (FLUSHALL): refill the deny list too
      this.versions?.sync() // and the version marks
      this.generation++
      this.askPos = STREAM_START
      this.wakePos = STREAM_START
      for (const state of this.rooms.values()) {
        state.reading = false
        state.ackedPos = null
      }
      this.markDirty(...this.rooms.keys())
    }
    if (!first && !reset) await this.repairRegressedStreams()
    for (const state of [...this.rooms.values()]) {
      if (state.reading && await trimmedPast(this.cmd, state.key, state.pos)) await this.ask(state.room, true)
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

  /** Publishes the whole state of a room whose updates did not all reach Redis (loading it if it is not loaded). */
  private async republish(name: string): Promise<void> {
    const room = this.rooms.get(name)?.room ?? await this.ctx.rooms.get(name)
    this.dirty.delete(name)
    try {
      await this.publish(name, room.encodeStateAsUpdate(), 's', 'republish')
      if (!this.dirty.has(name) && !this.inFlight.has(name)) this.edge.clear(name)
    } catch (err) {
      this.markDirty(name)
      throw err
    } finally {
      this.metrics.unpublishedRooms.set(this.dirty.size)
    }
  }

  /**
   * At the first connection: a data directory whose lineage is below the one Redis recorded for
   * this relay was restored from an older copy. Its read positions claim more than it holds, so
   * every room it stores is caught up (once live) by asking with its state vector and
   * delete-set fingerprint, without waiting for anyone to open it.
   */
  private async checkLineage(): Promise<void> {
    if (!this.options.dataDir) return
    this.lineageSeen = Number(await this.cmd.call('HGET', this.keys.lineage, this.options.id) ?? 0) || 0
    if (this.lineageSeen <= this.edge.lineage()) return
    const rooms = await this.ctx.storage.listRooms()
    this.restored = rooms
    this.logger.warn({ lineage: this.edge.lineage(), recorded: this.lineageSeen, rooms: rooms.length },
      'data directory is older than what this relay recorded in Redis (restored from a copy?): catching up every stored room')
  }

  /** Adds every room stored here to the set of rooms (after the first connection, and after Redis came back empty). */
  private async announceStoredRooms(): Promise<void> {
    const names = await this.ctx.storage.listRooms()
    for (let i = 0; i < names.length; i += 500) await this.cmd.call('SADD', this.keys.rooms, ...names.slice(i, i + 500))
  }

  /** Catches up, one at a time, every room of a data directory restored from an older copy. */
  private async catchUpRestored(): Promise<void> {
    this.sweeping = true
    let done = 0
    let short = 0
    try {
      while (this.restored && this.restored.length > 0 && this.live && !this.stopped) {
        const name = this.restored[0] as string
        const room = await this.ctx.rooms.get(name)
        const state = this.rooms.get(name)
        if (state && state.room === room) {
          await this.attachedWithin(state)
          if (!await (state.caughtUp ?? Promise.resolve(false))) short++
          await room.flush()
        }
        this.restored.shift()
        done++
        this.metrics.catchUps.inc({ kind: 'restored' })
      }
      if (this.restored?.length === 0) {
        this.restored = null
        // Only now may this directory claim the lineage Redis holds (a kill -9 midway sweeps again).
        const seq = this.edge.bumpLineage(this.lineageSeen)
        await this.cmd.call('HSET', this.keys.lineage, this.options.id, seq)
        this.logger.info({ rooms: done, waitRanOut: short }, 'rooms of a restored data directory caught up')
      }
    } catch (err) {
      this.failed(err, 'catch up restored rooms')
    } finally {
      this.sweeping = false
    }
  }

  /** Resolves true once `state` is attached, false when that takes longer than the catch-up wait. */
  private async attachedWithin(state: RoomState): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const attached = await Promise.race([
      state.attached.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), this.catchUpMs) }),
    ])
    clearTimeout(timer)
    return attached
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
        else if (key === this.keys.wake(this.instance)) this.onWake(items)
        else {
          const state = states.get(key)
          if (state && this.rooms.get(state.room.name) === state) this.applyEntries(state, items)
        }
      }
    }
  }

  /** Wake-ups (nothing to do: the next read includes the new room) and replies to this relay's asks. */
  private onWake(items: Array<[Buffer, Buffer[]]>): void {
    for (const [idBuf, raw] of items) {
      this.wakePos = idBuf.toString()
      const fields = fieldsOf(raw)
      const ask = fields.get('a')?.toString()
      const from = fields.get('r')?.toString()
      if (ask && from) this.asks.reply(ask, from, fields.get('p')?.toString() ?? '')
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
    this.positions.advanced(state.room.name, state.pos)
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
      const ask = fields.get('w')?.toString()
      void this.answer(name, new Uint8Array(sv), fields.get('f')?.toString() === '1', fields.get('d')?.toString())
        .catch((err) => {
          this.failed(err, 'answer')
          return ''
        })
        .then((pos) => (ask && from ? this.replyTo(from, ask, pos) : undefined))
        .catch((err) => this.failed(err, 'reply to an ask'))
    }
  }

  /**
   * Another relay asked for `name` holding `sv` (and a delete set of fingerprint `fp`): publishes
   * what it lacks, with this copy's delete set, when this relay holds structs it lacks or a
   * different delete set. Resolves with the answer's stream id, or '' when there was none.
   */
  private async answer(name: string, sv: Uint8Array, forced: boolean, fp: string | undefined): Promise<string> {
    const state = this.rooms.get(name)
    let room = state?.room
    const same = (r: RedisRoom): boolean => !forced && covers(sv, r.stateVector()) && (fp === undefined || fp === deleteSetFingerprint(r))
    if (room) {
      // The asker holds structs this copy lacks (say, written while Redis was away by a relay
      // that was killed before republishing): ask back, at most once a second per room.
      if (state && !covers(room.stateVector(), sv) && Date.now() - state.askedBackAt > 1000) {
        state.askedBackAt = Date.now()
        await this.ask(room, false)
      }
      if (same(room)) return ''
    } else {
      const stored = await this.ctx.storage.getStateVector(name)
      if (!stored) return ''
      if (!forced && covers(sv, stored)) {
        if (fp === undefined) return ''
        // The delete set of a room not loaded: known from its last unload while the store did not change since.
        const known = this.fingerprints.get(name)
        if (known && Buffer.compare(known.sv, stored) === 0 && known.fp === fp) return ''
      }
      room = await this.ctx.rooms.get(name)
      if (same(room)) return ''
    }
    const diff = room.encodeStateAsUpdate(sv)
    if (diff.byteLength <= MIN_UPDATE_BYTES || !this.live) return ''
    this.metrics.catchUps.inc({ kind: 'answered' })
    return this.publish(name, diff, 's', 'catch-up')
  }

  /** Tells `asker` this relay answered its ask `ask` (at stream id `pos`, '' for no answer). */
  private async replyTo(asker: string, ask: string, pos: string): Promise<void> {
    if (!this.live) return
    const key = this.keys.wake(asker)
    await this.cmd.call('XADD', key, 'MAXLEN', '~', 1000, '*', 'a', ask, 'r', this.instance, 'p', pos)
    await this.cmd.call('PEXPIRE', key, 60_000)
  }

  /** Keeps the fingerprint of an unloaded room's delete set, so asks about it need not load it (bounded). */
  private rememberFingerprint(room: RedisRoom): void {
    this.fingerprints.delete(room.name)
    this.fingerprints.set(room.name, { sv: room.stateVector(), fp: deleteSetFingerprint(room) })
    if (this.fingerprints.size > 10_000) this.fingerprints.delete(this.fingerprints.keys().next().value as string)
  }

  // ---- writing --------------------------------------------------------------------------

  /** Appends `update` to `room`'s stream; resolves with its stream id. */
  private async publish(room: string, update: Uint8Array, k: 'u' | 's', kind: string): Promise<string> {
    const id = (await this.cmd.callBuffer('XADD', this.keys.log(room), '*', 'r', this.instance, 'k', k, 'u', asBuffer(update)) as Buffer).toString()
    this.metrics.entriesSent.inc({ kind })
    this.metrics.bytesSent.inc(update.byteLength)
    this.published.delete(room)
    this.published.set(room, id)
    if (this.published.size > MAX_PUBLISHED_TRACKED) this.published.delete(this.published.keys().next().value as string)
    return id
  }

  /**
   * After a reconnect to the same Redis (same epoch): a stream that ends before what this relay
   * read from it or wrote to it lost its end — Redis restarted from an RDB/AOF copy older than
   * the relays' data, or from one a second behind after a kill -9. Nobody would send those
   * entries again, and a relay that had not read them yet would miss them for good. So the room
   * is republished in full (loaded or not), and a relay attached to it asks the others, forced.
   */
  private async repairRegressedStreams(): Promise<void> {
    for (const name of new Set([...this.rooms.keys(), ...this.published.keys()])) {
      const end = await lastGeneratedId(this.cmd, this.keys.log(name))
      const state = this.rooms.get(name)
      const read = state?.reading ? state.pos : STREAM_START
      const wrote = this.published.get(name) ?? STREAM_START
      if (compareStreamIds(read, end) <= 0 && compareStreamIds(wrote, end) <= 0) continue
      this.metrics.catchUps.inc({ kind: 'regressed' })
      this.logger.warn({ room: name, streamEnd: end, read, wrote }, 'Redis lost the end of a room stream (restarted from an older copy?): republishing the room and asking the others')
      this.markDirty(name)
      if (state?.reading) await this.ask(state.room, true)
    }
  }

  /** `rooms` have updates Redis may lack: recorded on disk (before returning) and republished on the next chance. */
  private markDirty(...rooms: string[]): void {
    for (const room of rooms) this.dirty.add(room)
    this.edge.markAll(rooms)
    this.metrics.unpublishedRooms.set(this.dirty.size)
  }

  /** Sets a newly loaded room's read position (its stored one, or 0) and asks for what others hold. */
  private async attach(state: RoomState, afterReset: boolean): Promise<void> {
    const stored = await this.cmd.call('HGET', this.keys.acks(state.room.name), this.lease.ackId) as string | null
    if (this.rooms.get(state.room.name) !== state) return
    const storedPos = stored?.split('|')[0] ?? null
    const pos = storedPos ?? STREAM_START
    const gap = storedPos === null || await trimmedPast(this.cmd, state.key, pos)
    if (this.rooms.get(state.room.name) !== state) return
    state.pos = pos
    state.reading = true
    await this.wake()
    // Every live relay replies to the ask; the wait is set up before it is sent.
    const askId = randomBytes(6).toString('hex')
    const replies = this.asks.wait(askId, await this.lease.liveInstances(), this.catchUpMs)
    // After a reset every relay republishes its loaded rooms; only relays holding it on disk are asked.
    await this.ask(state.room, gap && !afterReset, askId)
    state.caughtUp = this.followCatchUp(state, replies)
    if (!this.live) this.trackReconnectCatchUp(state)
    state.onAttached()
    await this.cmd.call('SADD', this.keys.rooms, state.room.name)
    // Deletions do not show in a state vector: publish this copy's delete set once, so deletions
    // stored here but never published (killed while Redis was away) still reach the others.
    const deletes = state.room.encodeStateAsUpdate(state.room.stateVector())
    if (deletes.byteLength > MIN_UPDATE_BYTES) await this.publish(state.room.name, deletes, 's', 'deletes')
  }

  /** Resolves true once every live relay replied to the attach's ask and the read passed their answers and the stream's end then. */
  private async followCatchUp(state: RoomState, replies: Promise<{ positions: string[]; missing: string[] }>): Promise<boolean> {
    const { positions, missing } = await replies
    if (missing.length > 0) this.logger.debug({ room: state.room.name, missing }, 'catch-up: some live relays did not reply in time')
    if (this.rooms.get(state.room.name) !== state || this.stopped) return false
    let target = STREAM_START
    for (const p of positions) if (compareStreamIds(p, target) > 0) target = p
    const end = await streamEnd(this.cmd, state.key).catch(() => STREAM_START)
    if (compareStreamIds(end, target) > 0) target = end
    const reached = await this.positions.wait(state.room.name, state.pos, target, this.catchUpMs)
    return reached && missing.length === 0
  }

  /** Health waits for the catch-up of a room attached while reconnecting. */
  private trackReconnectCatchUp(state: RoomState): void {
    const name = state.room.name
    this.reconnectCatchUps.add(name)
    void state.caughtUp?.then((ok) => {
      if (this.rooms.get(name) !== state || !this.reconnectCatchUps.delete(name)) return
      if (!ok) this.logger.warn({ room: name }, 'catch-up after reconnecting ran out of time; reading on')
      if (this.reconnectCatchUps.size === 0 && this.live) this.logCaughtUp()
      this.updateHealth()
    })
  }

  private logCaughtUp(): void {
    this.logger.info({ url: redactRedisUrl(this.options.url), rooms: this.rooms.size }, 'Redis connected and caught up')
  }

  private async ask(room: RedisRoom, forced: boolean, askId?: string): Promise<void> {
    const sv = room.stateVector()
    await this.cmd.callBuffer('XADD', this.keys.ask, 'MAXLEN', '~', 10_000, '*',
      'r', this.instance, 'n', room.name, 's', asBuffer(sv), 'f', forced ? '1' : '0', 'd', deleteSetFingerprint(room),
      ...(askId ? ['w', askId] : []))
    this.metrics.entriesSent.inc({ kind: 'ask' })
    this.metrics.bytesSent.inc(sv.byteLength)
    this.metrics.catchUps.inc({ kind: forced ? 'asked-forced' : 'asked' })
  }

  private async wake(): Promise<void> {
    const key = this.keys.wake(this.instance)
    await this.cmd.call('XADD', key, 'MAXLEN', '~', 1000, '*', 'w', '1')
    await this.cmd.call('PEXPIRE', key, 60_000)
  }

  // ---- positions and trimming -----------------------------------------------------------

  /** Renews this instance's live entry and the lease on its id (see id-lease.ts). */
  private async holdIdLease(): Promise<void> {
    if (await this.lease.hold(() => this.stopped)) for (const state of this.rooms.values()) state.ackedPos = null
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
      const due = [...this.rooms.values()].filter((state) =>
        state.reading && !(state.pos === state.ackedPos && now - state.ackedAt < this.forgetMs / 4))
      if (this.live) await this.recordPositions(due, true)
    } catch (err) {
      this.failed(err, 'checkpoint')
    } finally {
      this.checkpointing = false
    }
  }

  /**
   * Records the read positions of `states` (flushing first). The data directory's lineage is
   * bumped on disk before and recorded in Redis after, so a copy of it restored later is seen
   * to be older than its read positions (not while catching up a restored directory).
   */
  private async recordPositions(states: RoomState[], flush: boolean): Promise<void> {
    if (states.length === 0) return
    const lineage = this.options.dataDir && !this.restored && this.lease.ownsId ? this.edge.bumpLineage(this.lineageSeen) : null
    for (const state of states) if (this.live) await this.ack(state, flush)
    if (lineage !== null) await this.cmd.call('HSET', this.keys.lineage, this.options.id, lineage)
  }

  /** Records that this relay's stored state covers `state.pos` (flushing first), then trims. */
  private async ack(state: RoomState, flush: boolean): Promise<void> {
    const pos = state.pos
    if (flush) await state.room.flush()
    if (pos === STREAM_START) return
    const now = Date.now()
    const trimmed = await (this.cmd as unknown as { tandemAckTrim(...args: Array<string | number>): Promise<number> })
      .tandemAckTrim(this.keys.acks(state.room.name), state.key, this.lease.ackId, pos, now, this.forgetMs, this.forgetMs * 6)
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
