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
 * the relay is killed and restarted on that copy).
 *
 * @module
 */
import { join } from 'node:path'
import type { Rng } from './rng.ts'
import type { RelayProcess } from './relay-process.ts'
import type { Link } from './links.ts'
import type { Writer } from './writer.ts'

export const FAULT_KINDS = ['kill-9', 'graceful-restart', 'partition', 'delay', 'duplicate', 'client-offline', 'client-leaves', 'disk-fail', 'stale-copy'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const WEIGHTS: Record<FaultKind, number> = {
  'kill-9': 3, 'graceful-restart': 2, partition: 3, delay: 2, duplicate: 2,
  'client-offline': 2, 'client-leaves': 1, 'disk-fail': 2, 'stale-copy': 1,
}

/** What the scheduler acts on. */
export interface FaultTargets {
  relays: readonly RelayProcess[]
  links: readonly Link[]
  /** Writers currently in the campaign (not gone). */
  writers(): Writer[]
  /** Replaces a writer that left with a new one on the same relay. */
  replaceWriter(gone: Writer): void
  /** Scratch directory for data copies. */
  dir: string
  log(line: string): void
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
  /** When the last fault was healed (ms since the epoch). */
  lastHealAt = 0
  private readonly active = new Set<Promise<void>>()
  private readonly busy = new Set<unknown>()
  private relaysDown = 0
  private copies = 0
  private readonly t0 = Date.now()

  /** Kinds not injected yet, tried first when `ensureEach` is set (short runs still cover every kind). */
  private readonly pending: FaultKind[]

  constructor(private readonly rng: Rng, private readonly t: FaultTargets, options: { maxActive?: number; ensureEach?: boolean } = {}) {
    this.maxActive = options.maxActive ?? 3
    // The slow kinds (a relay restart each, one relay down at a time) go first.
    const slowFirst: FaultKind[] = ['stale-copy', 'kill-9', 'graceful-restart']
    this.pending = options.ensureEach ? [...slowFirst, ...FAULT_KINDS.filter((k) => !slowFirst.includes(k))] : []
  }

  private readonly maxActive: number

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
    let kind: FaultKind = this.rng.weighted(WEIGHTS)
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
        this.lastHealAt = Date.now()
      })
    this.active.add(tracked)
  }

  private freeRelay(): RelayProcess | null {
    const free = this.t.relays.filter((r) => !this.busy.has(r) && r.running)
    return free.length > 0 ? this.rng.pick(free) : null
  }

  private hold<T>(target: T, kind: FaultKind, name: string, body: () => Promise<string | void>): Promise<void> {
    this.busy.add(target)
    this.counts[kind]++
    const startMs = Date.now() - this.t0
    this.t.log(`+ ${kind} ${name}`)
    return body().then((detail) => {
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

  private down<T>(fn: () => Promise<T>): Promise<T> {
    this.relaysDown++
    return fn().finally(() => this.relaysDown--)
  }

  private inject(kind: FaultKind): Promise<void> | null {
    const { rng } = this
    switch (kind) {
      case 'kill-9':
      case 'graceful-restart': {
        const relay = this.relaysDown === 0 ? this.freeRelay() : null
        if (!relay) return null
        return this.hold(relay, kind, relay.spec.id, () => this.down(async () => {
          if (kind === 'kill-9') await relay.kill9()
          else await relay.stop()
          await sleep(rng.int(100, 1500))
          return this.restart(relay)
        }))
      }
      case 'stale-copy': {
        const relay = this.relaysDown === 0 ? this.freeRelay() : null
        if (!relay) return null
        const copy = join(this.t.dir, `copy-${this.copies++}`)
        return this.hold(relay, kind, relay.spec.id, async () => {
          if (!(await relay.copyData(copy))) return 'no usable copy; skipped'
          await sleep(rng.int(1000, 4000))
          if (this.relaysDown > 0) return 'another relay was down; copy discarded'
          const restarted = await this.down(async () => {
            await relay.kill9()
            await relay.restoreData(copy)
            return this.restart(relay)
          })
          return `on the copy, ${restarted}`
        })
      }
      case 'disk-fail': {
        const relay = this.freeRelay()
        if (!relay) return null
        return this.hold(relay, kind, relay.spec.id, async () => {
          await relay.setDiskFailing(true)
          await sleep(rng.int(500, 4000))
          await relay.setDiskFailing(false)
        })
      }
      case 'partition':
      case 'delay':
      case 'duplicate': {
        const free = this.t.links.filter((l) => !this.busy.has(l))
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
      case 'client-offline':
      case 'client-leaves': {
        const free = this.t.writers().filter((w) => !this.busy.has(w) && w.online)
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
