/**
 * The seeded fault scheduler: every few hundred milliseconds it may start one fault, chosen
 * by weight among those whose target is free, and lets it run for a seeded duration before
 * healing it. At most `maxActive` faults at once and at most one relay down at a time (so a
 * star or ring is cut, never the whole cluster gone for long).
 *
 * Kinds: `kill-9` (SIGKILL, restart), `graceful-restart` (SIGTERM, restart), `partition`
 * (one link refuses and cuts), `delay` (one link delays frames), `duplicate` (one link sends
 * frames twice), `client-offline` (a client disconnects and keeps writing, then reconnects),
 * `client-leaves` (a client goes for good, replaced by a new one), `disk-fail` (a relay's
 * storage writes fail), `stale-copy` (a relay's data directory is copied while it runs; later
 * the relay is killed and restarted on that copy — only if nothing kept its writes from reaching
 * another relay meanwhile, see `isolations`).
 *
 * Redis mode (relays sharing rooms through one redis-server, no peer links) replaces the three
 * peer-link kinds with: `redis-kill-9` (kill -9, restart from what it persisted), `redis-empty`
 * (kill -9, restart with nothing), `redis-old-copy` (its RDB/AOF copied, later killed and
 * restarted from that older copy), `redis-maxmemory` (`maxmemory` 1 byte with `noeviction`:
 * every write refused for a while), and on one relay's TCP link to Redis `redis-link-cut`
 * (reset and refused), `redis-link-slow` (delayed) and `redis-link-stall` (bytes held silently,
 * no RST, sometimes past the relay's 5 s socket timeout). One Redis-server fault at a time.
 *
 * @module
 */
import { join } from 'node:path'
import type { Rng } from './rng.ts'
import type { RelayProcess } from './relay-process.ts'
import type { Link } from './links.ts'
import type { Writer } from './writer.ts'
import type { RedisServerProcess } from './redis-server.ts'
import type { TcpProxy } from './tcp-proxy.ts'

/** Faults on relays and clients, in both modes. */
export const COMMON_FAULT_KINDS = ['kill-9', 'graceful-restart', 'client-offline', 'client-leaves', 'disk-fail', 'stale-copy'] as const
/** Faults on peer links (mesh, star, ring). */
export const LINK_FAULT_KINDS = ['partition', 'delay', 'duplicate'] as const
/** Faults on the redis-server and on each relay's link to it (Redis mode). */
export const REDIS_FAULT_KINDS = ['redis-kill-9', 'redis-empty', 'redis-old-copy', 'redis-maxmemory', 'redis-link-cut', 'redis-link-slow', 'redis-link-stall'] as const
export const FAULT_KINDS = ['kill-9', 'graceful-restart', 'partition', 'delay', 'duplicate', 'client-offline', 'client-leaves', 'disk-fail', 'stale-copy', ...REDIS_FAULT_KINDS] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** The fault kinds that apply to a campaign over peer links (`links`) or one Redis (`redis`). */
export function faultKindsFor(mode: 'links' | 'redis'): FaultKind[] {
  return [...COMMON_FAULT_KINDS, ...(mode === 'redis' ? REDIS_FAULT_KINDS : LINK_FAULT_KINDS)]
}

const WEIGHTS: Record<FaultKind, number> = {
  'kill-9': 3, 'graceful-restart': 2, partition: 3, delay: 2, duplicate: 2,
  'client-offline': 2, 'client-leaves': 1, 'disk-fail': 2, 'stale-copy': 1,
  'redis-kill-9': 2, 'redis-empty': 1, 'redis-old-copy': 1, 'redis-maxmemory': 2,
  'redis-link-cut': 3, 'redis-link-slow': 2, 'redis-link-stall': 1,
}

/** One relay's TCP link to Redis, through its own proxy. */
export interface RedisLink {
  name: string
  proxy: TcpProxy
}

/** What the scheduler acts on. */
export interface FaultTargets {
  relays: readonly RelayProcess[]
  links: readonly Link[]
  /** Writers currently in the campaign (not gone). */
  writers(): Writer[]
  /** Replaces a writer that left with a new one on the same relay. */
  replaceWriter(gone: Writer): void
  /** The redis-server (Redis mode). */
  redis?: RedisServerProcess
  /** Each relay's link to Redis (Redis mode). */
  redisLinks?: readonly RedisLink[]
  /** Scratch directory for data copies. */
  dir: string
  log(line: string): void
}

/** Options of {@link FaultScheduler}. */
export interface SchedulerOptions {
  /** At most this many faults at once (default 3). */
  maxActive?: number
  /** Inject every kind once first (then random ones). */
  ensureEach?: boolean
  /** Only these kinds (default: every kind of the peer-link mode). */
  kinds?: readonly FaultKind[]
  /** `lose`: `disk-fail` makes a lying disk (negative control of the checker). Default `fail`. */
  diskMode?: 'fail' | 'lose'
}

/** One fault as it happened. */
export interface FaultEvent {
  kind: FaultKind
  target: string
  startMs: number
  endMs: number
  detail?: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class FaultScheduler {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  readonly events: FaultEvent[] = []
  readonly problems: string[] = []
  private readonly active = new Set<Promise<void>>()
  private readonly busy = new Set<unknown>()
  private relaysDown = 0
  private copies = 0
  private readonly t0 = Date.now()

  /** Kinds not injected yet, tried first when `ensureEach` is set (short runs still cover every kind). */
  private readonly pending: FaultKind[]

  constructor(private readonly rng: Rng, private readonly t: FaultTargets, options: SchedulerOptions = {}) {
    this.maxActive = options.maxActive ?? 3
    const kinds = options.kinds ?? faultKindsFor('links')
    this.weights = Object.fromEntries(kinds.map((k) => [k, WEIGHTS[k]])) as Record<FaultKind, number>
    this.diskMode = options.diskMode ?? 'fail'
    // The slow kinds (a relay or Redis restart each, one at a time) go first.
    const slowFirst: FaultKind[] = ['stale-copy', 'redis-old-copy', 'kill-9', 'redis-empty', 'graceful-restart', 'redis-kill-9']
    this.pending = options.ensureEach ? [...slowFirst, ...FAULT_KINDS.filter((k) => !slowFirst.includes(k))].filter((k) => k in this.weights) : []
  }

  private readonly maxActive: number
  private readonly weights: Record<FaultKind, number>
  private readonly diskMode: 'fail' | 'lose'

  /**
   * Injects faults until `durationMs` passed (and, with `ensureEach`, until every kind ran,
   * for at most three times as long), then waits for the running ones to heal.
   */
  async run(durationMs: number): Promise<void> {
    const start = Date.now()
    const over = (): boolean => Date.now() >= start + durationMs && (this.pending.length === 0 || Date.now() >= start + 3 * durationMs)
    while (!over()) {
      await sleep(this.rng.int(200, 1200))
      if (over()) break
      if (this.active.size < this.maxActive) this.startOne()
    }
    await Promise.all(this.active)
  }

  private startOne(): void {
    let kind: FaultKind = this.rng.weighted(this.weights)
    let job: Promise<void> | null = null
    for (const candidate of this.pending) {
      job = this.inject(candidate)
      if (job) {
        kind = candidate
        this.pending.splice(this.pending.indexOf(candidate), 1)
        break
      }
    }
    job ??= this.inject(kind)
    if (!job) return
    const tracked = job
      .catch((error: unknown) => {
        this.problems.push(`${kind}: ${(error as Error).message}`)
        this.t.log(`fault ${kind} failed: ${(error as Error).message}`)
      })
      .finally(() => {
        this.active.delete(tracked)
      })
    this.active.add(tracked)
  }

  private freeRelay(): RelayProcess | null {
    const free = this.t.relays.filter((r) => !this.busy.has(r) && r.running)
    return free.length > 0 ? this.rng.pick(free) : null
  }

  /**
   * Faults that keep a relay's writes from reaching any other relay while they last (`all`: every
   * relay's), for `stale-copy`: restoring a relay's old data directory loses for good what only that
   * relay held, so the restore is only done when its writes could flow out during the whole window
   * since the copy (no relay, Redis or link of this relay down meanwhile). That is the fault a
   * design can survive; a backup restored over writes that never left the relay cannot be.
   */
  private readonly isolations: Array<{ relays: 'all' | number[]; start: number; end: number | null }> = []
  /** Relays between their copy and their restore: no fault that would isolate them starts meanwhile. */
  private readonly copyWindows = new Set<number>()

  private isolating(kind: FaultKind, target: unknown): 'all' | number[] | null {
    if (kind === 'kill-9' || kind === 'graceful-restart') return 'all'
    if (kind === 'redis-kill-9' || kind === 'redis-empty' || kind === 'redis-old-copy' || kind === 'redis-maxmemory') return 'all'
    if (kind === 'partition') {
      const link = target as Link
      return [link.from, link.to]
    }
    if (kind === 'redis-link-cut' || kind === 'redis-link-stall') return [(this.t.redisLinks ?? []).indexOf(target as RedisLink)]
    return null
  }

  /** True when a fault kept relay `index`'s writes in since `since` (ms timestamp). */
  private isolatedSince(index: number, since: number): boolean {
    return this.isolations.some((i) => (i.end === null || i.end > since) && (i.relays === 'all' || i.relays.includes(index)))
  }

  private hold<T>(target: T, kind: FaultKind, name: string, body: () => Promise<string | void>): Promise<void> {
    this.busy.add(target)
    this.counts[kind]++
    const startMs = Date.now() - this.t0
    this.t.log(`+ ${kind} ${name}`)
    const affected = this.isolating(kind, target)
    const isolation = affected ? { relays: affected, start: Date.now(), end: null as number | null } : null
    if (isolation) this.isolations.push(isolation)
    return body().finally(() => {
      if (isolation) isolation.end = Date.now()
    }).then((detail) => {
      this.events.push({ kind, target: name, startMs, endMs: Date.now() - this.t0, ...(detail ? { detail } : {}) })
      this.t.log(`- ${kind} ${name}${detail ? ` (${detail})` : ''}`)
    }).finally(() => this.busy.delete(target))
  }

  /** Restarts `relay`, retrying a few times (a port can linger); a relay that cannot start is a problem. */
  private async restart(relay: RelayProcess): Promise<string> {
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      try {
        await relay.start()
        return `restarted in ${Date.now() - started} ms`
      } catch (error) {
        if (attempt >= 3) throw error
        await sleep(500)
      }
    }
  }

  /** Starts the redis-server again, retrying a few times; one that cannot start is a problem. */
  private async restartRedis(redis: RedisServerProcess): Promise<string> {
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      try {
        await redis.start()
        return `up again in ${Date.now() - started} ms`
      } catch (error) {
        if (attempt >= 3) throw error
        await sleep(500)
      }
    }
  }

  private down<T>(fn: () => Promise<T>): Promise<T> {
    this.relaysDown++
    return fn().finally(() => this.relaysDown--)
  }

  private inject(kind: FaultKind): Promise<void> | null {
    const { rng } = this
    switch (kind) {
      case 'kill-9':
      case 'graceful-restart': {
        const relay = this.relaysDown === 0 && this.copyWindows.size === 0 ? this.freeRelay() : null
        if (!relay) return null
        return this.hold(relay, kind, relay.spec.id, () => this.down(async () => {
          if (kind === 'kill-9') await relay.kill9()
          else await relay.stop()
          await sleep(rng.int(100, 1500))
          return this.restart(relay)
        }))
      }
      case 'stale-copy': {
        const relay = this.relaysDown === 0 && this.copyWindows.size === 0 ? this.freeRelay() : null
        if (!relay) return null
        const copy = join(this.t.dir, `copy-${this.copies++}`)
        const index = this.t.relays.indexOf(relay)
        this.copyWindows.add(index)
        return this.hold(relay, kind, relay.spec.id, async () => {
          const since = Date.now()
          try {
            if (!(await relay.copyData(copy))) return 'no usable copy; skipped'
            await sleep(rng.int(1000, 4000))
          } finally {
            this.copyWindows.delete(index)
          }
          if (this.relaysDown > 0 || this.isolatedSince(index, since)) {
            return 'its writes could not all leave it since the copy (a relay, Redis or its link was down); copy discarded'
          }
          const isolation = { relays: 'all' as const, start: Date.now(), end: null as number | null }
          this.isolations.push(isolation)
          const restarted = await this.down(async () => {
            await relay.kill9()
            await relay.restoreData(copy)
            return this.restart(relay)
          }).finally(() => { isolation.end = Date.now() })
          return `on the copy, ${restarted}`
        })
      }
      case 'disk-fail': {
        const relay = this.freeRelay()
        if (!relay) return null
        return this.hold(relay, kind, relay.spec.id, async () => {
          await relay.setDiskFailing(true, this.diskMode)
          await sleep(rng.int(500, 4000))
          await relay.setDiskFailing(false)
        })
      }
      case 'partition':
      case 'delay':
      case 'duplicate': {
        const free = this.t.links.filter((l) => !this.busy.has(l) && (kind !== 'partition' || !(this.copyWindows.has(l.from) || this.copyWindows.has(l.to))))
        if (free.length === 0) return null
        const link = rng.pick(free)
        return this.hold(link, kind, link.name, async () => {
          const ms = rng.int(20, 250)
          if (kind === 'partition') link.proxy.setMode('refuse')
          else if (kind === 'delay') link.proxy.setDelay(ms)
          else link.proxy.setDuplicate(true)
          await sleep(rng.int(500, 4000))
          if (kind === 'partition') link.proxy.setMode('pass')
          else if (kind === 'delay') link.proxy.setDelay(0)
          else link.proxy.setDuplicate(false)
          return kind === 'delay' ? `${ms} ms` : undefined
        })
      }
      case 'redis-kill-9':
      case 'redis-empty':
      case 'redis-old-copy':
      case 'redis-maxmemory': {
        const redis = this.t.redis
        if (!redis || this.busy.has(redis) || !redis.running || this.copyWindows.size > 0) return null
        return this.hold(redis, kind, 'redis', async () => {
          if (kind === 'redis-maxmemory') {
            await redis.setRefusingWrites(true)
            const ms = rng.int(500, 4000)
            await sleep(ms)
            await redis.setRefusingWrites(false)
            return `writes refused for ${ms} ms`
          }
          let what = 'from what it persisted'
          if (kind === 'redis-old-copy') {
            const copy = join(this.t.dir, `redis-copy-${this.copies++}`)
            const copied = await redis.copyPersisted(copy)
            const age = rng.int(2000, 8000)
            await sleep(age)
            await redis.kill9()
            await redis.restorePersisted(copy)
            what = `from its ${copied} taken ${age} ms before`
          } else {
            await redis.kill9()
            if (kind === 'redis-empty') {
              await redis.wipe()
              what = 'empty'
            }
          }
          const downMs = rng.int(100, 3000)
          await sleep(downMs)
          return `down ${downMs} ms, restarted ${what}, ${await this.restartRedis(redis)}`
        })
      }
      case 'redis-link-cut':
      case 'redis-link-slow':
      case 'redis-link-stall': {
        const free = (this.t.redisLinks ?? []).filter((l, i) => !this.busy.has(l) && (kind === 'redis-link-slow' || !this.copyWindows.has(i)))
        if (free.length === 0) return null
        const link = rng.pick(free)
        return this.hold(link, kind, link.name, async () => {
          const ms = kind === 'redis-link-stall' ? rng.int(500, 8000) : rng.int(500, 4000)
          const delay = rng.int(20, 250)
          if (kind === 'redis-link-cut') link.proxy.setMode('refuse')
          else if (kind === 'redis-link-slow') link.proxy.setDelay(delay)
          else link.proxy.setMode('stall')
          await sleep(ms)
          link.proxy.setMode('pass')
          link.proxy.setDelay(0)
          return kind === 'redis-link-slow' ? `${delay} ms per chunk for ${ms} ms` : `${ms} ms`
        })
      }
      case 'client-offline':
      case 'client-leaves': {
        // A client leaves or goes offline only while synced: one leaving while its relay restarts on an
        // old copy would take with it the only copy of writes that relay acknowledged and then lost.
        const free = this.t.writers().filter((w) => !this.busy.has(w) && w.online && w.synced)
        if (free.length === 0) return null
        const writer = rng.pick(free)
        return this.hold(writer, kind, writer.name, async () => {
          if (kind === 'client-leaves') {
            writer.leave()
            this.t.replaceWriter(writer)
            return `${writer.ops.length} ops, acknowledged up to clock ${writer.acked} of ${writer.clock}`
          }
          writer.goOffline()
          await sleep(rng.int(300, 3000))
          writer.goOnline()
        })
      }
    }
  }
}
