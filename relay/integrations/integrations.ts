/**
 * The integrations extension: the change feed (`GET /api/rooms/:room/events`, `GET /api/events`)
 * and the webhooks (`--webhook`). It observes the rooms through the extension hooks — an update
 * accepted (`onUpdate`: who wrote it, and whether this relay owns it), a flush durable
 * (`onStored`: one feed event per room and flush, and the room's pending webhook) — and keeps its
 * records in the integrations store (`<data>/integrations`), written by the journal.
 *
 * Crash marks: a room's first update after it loads writes `dirty\0<room>` (which says whether
 * this relay owns updates of it, and whether its creation is still to be announced); the mark
 * goes when the room unloads with everything announced, or at a clean stop. After a crash, each
 * marked room gets one `changed` event (authors unknown) — and its webhooks when it had owned
 * updates —, since the crash may have come between the room's append and its event: a change is
 * announced at least once, sometimes twice, never not at all.
 *
 * Implements the relay's extension interface structurally (server/ creates it, so this folder
 * cannot import server/).
 *
 * @module
 */
import { join } from 'node:path'
import type { Hono, Context } from 'hono'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { Counter, Gauge } from 'prom-client'
import type { RelayConfig } from '../config/config.ts'
import type { RouteKit } from '../http/http-api.ts'
import { docToJson } from '../http/doc-json.ts'
import type { Health } from '../observability/health.ts'
import type { Room } from '../room/room.ts'
import type { RoomManager } from '../room/rooms.ts'
import type { ExtensionHooks } from '../room/extension-hooks.ts'
import type { Author } from '../room/author.ts'
import type { StorageAdapter } from '../storage/types.ts'
import type { DenyList } from '../auth/deny-list.ts'
import { RelayError } from '../wire/errors.ts'
import { ChangeTracker, type MarkChange, type StoredChange } from './change-tracker.ts'
import { ChangeDebounce } from './debounce.ts'
import { FeedLog, type FeedEvent } from './feed-log.ts'
import { openFeedStream, type FeedStream } from './feed-stream.ts'
import { Journal } from './journal.ts'
import { Outbox, type WebhookMessage } from './outbox.ts'
import { MemoryKvStore, openLevelStore, SEP, under, type KvOp, type KvStore } from './store.ts'

/** What the extension gets at start (a subset of the relay's `RelayContext`). */
export interface IntegrationsContext {
  config: RelayConfig
  rooms: RoomManager
  storage: StorageAdapter
  logger: Logger
  metrics: Registry
  health: Health
  /** Revoked token ids: a feed whose token is revoked ends. */
  denyList?: DenyList
}

/** How the relay creates the extension. */
export interface IntegrationsOptions {
  /** Where the store lives; undefined: in memory (`--storage memory`, or a relay given its own storage adapter). */
  dir?: string
  /** Whether the relay runs open (no `--auth-secret`, no `authorize` hook): the all-rooms feed is then open like every room. */
  openAccess: () => boolean
  /**
   * Whether the relay shares rooms with others (peer links, Redis): a room's changes made on
   * another relay reach this one only while it holds the room, so a room feed pins its room.
   */
  clustered?: boolean
  /** Heartbeat comment interval of the feed streams (default 15 s). */
  heartbeatMs?: number
}

const DIRTY = `dirty${SEP}`
const dirtyOp = (room: string, mark: MarkChange): KvOp => ({ type: 'put', key: DIRTY + room, value: JSON.stringify(mark) })
const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** The running extension of each relay, by its room manager (for {@link enqueueVersionCreated}). */
const running = new WeakMap<object, Integrations>()

/**
 * Enqueues a `version.created` webhook about `room` on the relay whose room manager is `rooms`
 * (an extension has it as `ctx.rooms`). `data` goes into the payload's `data` beside `room` and
 * `url` (e.g. `{ version: id, stateVector, authors }`). Call it on the relay that made the version,
 * as with every change: one relay delivers it. Resolves once the message is in the outbox
 * (durable: it is delivered at least once, in order after the room's earlier messages), or false
 * when that relay sends no webhooks.
 */
export function enqueueVersionCreated(rooms: object, room: string, data: Record<string, unknown>): Promise<boolean> {
  return running.get(rooms)?.versionCreated(room, data) ?? Promise.resolve(false)
}

/** Creates the extension from the relay's config. */
export function integrationsExtension(config: RelayConfig, options: IntegrationsOptions): Integrations {
  return new Integrations(config, options)
}

/** The change feed and the webhooks of one relay. */
export class Integrations implements ExtensionHooks {
  readonly name = 'integrations'
  private ctx: IntegrationsContext | null = null
  private kit: RouteKit | null = null
  private store: KvStore | null = null
  private journal: Journal | null = null
  private log: FeedLog | null = null
  private outbox: Outbox | null = null
  private debounce: ChangeDebounce | null = null
  private readonly tracker = new ChangeTracker()
  private readonly streams = new Set<FeedStream>()
  private pruneTimer: NodeJS.Timeout | null = null
  private httpUrl = ''
  private stopping = false
  /** The newest event of each room (cache key of the document JSON). */
  private readonly latest = new Map<string, number>()
  private readonly docs = new Map<string, { seq: number; json: unknown }>()
  private eventsTotal: Counter | null = null

  constructor(
    private readonly config: RelayConfig,
    private readonly options: IntegrationsOptions,
  ) {}

  /** The relay listens at `httpUrl` (the default base of the webhooks' room URLs). */
  listening(httpUrl: string): void {
    this.httpUrl = httpUrl
  }

  private roomUrl(room: string): string {
    return `${(this.config.publicUrl ?? this.httpUrl).replace(/\/$/, '')}/api/rooms/${encodeURIComponent(room)}`
  }

  async onStart(ctx: IntegrationsContext): Promise<void> {
    this.ctx = ctx
    const { config } = this
    this.store = this.options.dir ? await openLevelStore(this.options.dir, config.durability === 'sync') : new MemoryKvStore()
    const journal = (this.journal = await Journal.open(this.store, ctx.logger))
    journal.onHealth = (error) => {
      if (error === null) ctx.health.delete('feed')
      else ctx.health.set('feed', { ok: false, detail: `writing the change feed fails: ${(error as Error).message}` })
    }
    this.log = await FeedLog.open(this.store, journal, { retentionMs: config.feedRetentionMs, maxEvents: config.feedMaxEvents })
    this.eventsTotal = new Counter({ name: 'tandem_feed_events_total', help: 'Change feed events written', registers: [ctx.metrics] })
    const streams = this.streams
    new Gauge({ name: 'tandem_feed_consumers', help: 'Open change feed streams', registers: [ctx.metrics], collect() {
      this.set(streams.size)
    } })
    if (config.webhooks.length > 0) {
      if (!config.webhookSecret) throw new Error('--webhook needs --webhook-secret')
      this.outbox = new Outbox(this.store, journal, this.log.logId, ctx.logger, ctx.metrics, ctx.health, {
        endpoints: config.webhooks,
        secret: config.webhookSecret,
        pauseAfterMs: config.webhookPauseAfterMs,
        backoffMaxMs: config.webhookRetryMaxMs,
        backoffBaseMs: Math.min(500, config.webhookRetryMaxMs),
        ...(config.webhookInclude === 'json' ? { decorate: (message: WebhookMessage) => this.decorate(message) } : {}),
      })
      this.debounce = new ChangeDebounce(this.store, journal, this.outbox, {
        debounceMs: config.webhookDebounceMs,
        maxWaitMs: config.webhookMaxWaitMs,
        roomUrl: (room) => this.roomUrl(room),
      })
      await this.outbox.load()
      await this.debounce.load()
    }
    await this.recover(ctx)
    running.set(ctx.rooms, this)
    this.outbox?.start()
    const prune = (): void => {
      this.log?.prune().catch((error: unknown) => {
        if (!this.stopping) ctx.logger.error({ err: error }, 'integrations: pruning the change feed failed')
      })
    }
    prune()
    this.pruneTimer = setInterval(prune, 60_000)
    this.pruneTimer.unref()
  }

  /** Announces the rooms a crash may have left unannounced (see the module). */
  private async recover(ctx: IntegrationsContext): Promise<void> {
    const marks = await this.store!.range(under(DIRTY))
    if (marks.length === 0) return
    for (const [key, value] of marks) {
      const room = key.slice(DIRTY.length)
      const mark = JSON.parse(value) as MarkChange
      const sv = await ctx.storage.getStateVector(room)
      const ops: KvOp[] = [{ type: 'del', key }]
      if (sv) this.announce(room, sv, { authors: [], owned: mark.owned, created: mark.created }, ops)
      else this.journal!.add(ops)
    }
    ctx.logger.warn({ rooms: marks.length }, 'integrations: announced the rooms written to before an unclean stop (at least once)')
  }

  onRoomLoaded(room: Room): void {
    const sv = room.stateVector()
    this.tracker.loaded(room.name, sv.length === 1 && sv[0] === 0)
  }

  onUpdate(room: Room, _update: Uint8Array, origin: unknown): void {
    if (!this.journal || this.stopping) return
    const mark = this.tracker.update(room.name, origin)
    if (mark) this.journal.add([dirtyOp(room.name, mark)])
  }

  onStored(room: Room, persistedStateVector: Uint8Array): void {
    if (!this.journal || this.stopping) return
    const change = this.tracker.stored(room.name, room.unsaved)
    if (change) this.announce(room.name, persistedStateVector, change)
  }

  onRoomUnloaded(room: Room): void {
    if (!this.journal || this.stopping) return
    if (this.tracker.unloaded(room.name)) this.journal.add([{ type: 'del', key: DIRTY + room.name }])
  }

  /** Writes one feed event for a stored change of `room` (and its webhooks), with `extra` ops in the same batch. */
  private announce(room: string, sv: Uint8Array, change: StoredChange, extra: KvOp[] = []): void {
    const journal = this.journal!
    const log = this.log!
    const event: FeedEvent = { seq: journal.next(), room, stateVector: base64(sv), authors: change.authors, time: new Date().toISOString() }
    const ops = log.appendOps(event).concat(extra)
    const after: Array<() => void> = [() => {
      this.latest.set(room, event.seq)
      log.publish(event)
    }]
    if (this.outbox && this.debounce && change.owned) {
      const eventId = log.idOf(event.seq)
      if (change.created) {
        const created = this.outbox.enqueue(room, 'room.created', { room, eventId, stateVector: event.stateVector, authors: event.authors, url: this.roomUrl(room) })
        ops.push(...created.ops)
        after.push(created.then)
      }
      ops.push(...this.debounce.changed(room, eventId, event.stateVector, event.authors))
      after.push(() => this.debounce?.arm(room))
    }
    if (change.created) {
      const mark = this.tracker.markOf(room)
      if (mark) ops.push(dirtyOp(room, mark))
    }
    this.eventsTotal?.inc()
    journal.add(ops, () => {
      for (const fn of after) fn()
    })
  }

  /** See {@link enqueueVersionCreated}. */
  versionCreated(room: string, data: Record<string, unknown>): Promise<boolean> {
    if (!this.outbox || !this.journal || this.stopping) return Promise.resolve(false)
    const { ops, then } = this.outbox.enqueue(room, 'version.created', { room, ...data, url: this.roomUrl(room) })
    return new Promise((resolve) => {
      const added = this.journal!.add(ops, () => {
        then()
        resolve(true)
      })
      if (!added) resolve(false)
    })
  }

  /** A room's document as JSON (cached until its next event); null when no relay holds it. */
  private async docJson(room: string): Promise<unknown> {
    const seq = this.latest.get(room) ?? -1
    const cached = this.docs.get(room)
    if (cached && cached.seq === seq) return cached.json
    const json = await this.kit!.withRoom(room, false, (r) => docToJson(r.encodeStateAsUpdate()))
    this.docs.delete(room)
    this.docs.set(room, { seq, json })
    if (this.docs.size > 256) this.docs.delete(this.docs.keys().next().value as string)
    return json
  }

  private async decorate(message: WebhookMessage): Promise<Record<string, unknown>> {
    if (message.type === 'version.created') return message.data
    const doc = await this.docJson(message.room)
    return doc === null ? message.data : { ...message.data, doc }
  }

  /** The feed routes. */
  readonly routes = (app: Hono, kit: RouteKit): void => {
    this.kit = kit
    app.get('/api/rooms/:room/events', async (c) => {
      let room = ''
      try {
        room = kit.roomParam(c)
        const grant = await kit.admit(c, room, false)
        // Checked again every heartbeat: the grant's expiry and the deny list (not the per-IP
        // room rate, which a consumer following many rooms would run into).
        return await this.stream(c, room, async () => {
          if (grant.expiresAt !== undefined && Date.now() >= grant.expiresAt) return false
          return !(grant.tokenId !== undefined && this.ctx?.denyList?.has(grant.tokenId))
        })
      } catch (error) {
        return kit.refuse(c, error, room)
      }
    })
    app.get('/api/events', async (c) => {
      try {
        const open = this.options.openAccess()
        if (!open) await kit.admitAdmin(c)
        return await this.stream(c, undefined, async () => {
          if (open) return true
          try {
            await kit.admitAdmin(c)
            return true
          } catch {
            return false
          }
        })
      } catch (error) {
        return kit.refuse(c, error)
      }
    })
  }

  private async stream(c: Context, room: string | undefined, recheck: () => Promise<boolean>): Promise<Response> {
    const log = this.log
    const ctx = this.ctx
    if (!log || !ctx || this.stopping) throw new RelayError('going-away', this.stopping ? 'relay is shutting down' : 'relay is starting')
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? null
    const include = c.req.query('include')
    if (include !== undefined && include !== 'json') throw new RelayError('malformed-message', 'include must be json')
    // In a cluster a room's changes reach this relay only while it holds the room: pinned meanwhile.
    const clustered = this.options.clustered === true
    let pinned: Room | null = null
    if (room !== undefined && clustered) {
      pinned = await ctx.rooms.get(room)
      ctx.rooms.pin(pinned)
    }
    const stream = openFeedStream({
      log,
      room,
      resume: log.resume(lastEventId, room),
      ...(include === 'json' ? { docJson: (name: string) => this.docJson(name) } : {}),
      heartbeatMs: this.options.heartbeatMs ?? 15_000,
      recheck,
      onClose: () => {
        this.streams.delete(stream)
        if (pinned) ctx.rooms.unpin(pinned)
        pinned = null
      },
    })
    this.streams.add(stream)
    return new Response(stream.body, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
    })
  }

  async onStop(): Promise<void> {
    this.stopping = true
    running.delete(this.ctx?.rooms ?? {})
    if (this.pruneTimer) clearInterval(this.pruneTimer)
    for (const stream of [...this.streams]) stream.close()
    this.debounce?.stop()
    await this.outbox?.stop()
    const journal = this.journal
    if (!journal || !this.ctx) return
    // Everything stored was announced: the crash marks of settled rooms go.
    const clear: KvOp[] = []
    for (const room of this.tracker.marked()) {
      if (!this.tracker.settled(room) || (this.ctx.rooms.peek(room)?.unsaved ?? 0) > 0) continue
      this.tracker.clearMark(room)
      clear.push({ type: 'del', key: DIRTY + room })
    }
    if (clear.length > 0) journal.add(clear)
    await journal.close()
    await this.store?.close()
  }
}

/** The store directory of a relay's integrations: `<data>/integrations`. */
export function integrationsDir(config: RelayConfig): string {
  return join(config.data, 'integrations')
}

export type { Author }
