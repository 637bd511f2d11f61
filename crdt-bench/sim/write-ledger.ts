/**
 * The life of every write in one scenario, in simulated time: when it was attempted, when its
 * writer's user was told it is taken (or that it was refused), and when each replica first
 * reflected it. Latency, availability and convergence after a heal are read off it, so they
 * come from the simulated network's delays, not from the wall clock, and are a pure function
 * of the seed.
 *
 * Availability is judged the way a user meets it: a write is available if its writer was told
 * it is taken within `writeTimeoutMs` (a client's patience). Only writes attempted while a
 * partition is in force and at least `writeTimeoutMs` before it heals are judged, so the whole
 * wait falls inside the partition: a write queued until the heal, or refused, is unavailable; a
 * write that merely needed a round trip is not counted against the partition because it was
 * attempted just before the heal.
 */
import type { Partition } from './network.ts'
import type { TimedOp } from './workload.ts'
import type { WriteOutcome } from './strategies/index.ts'

/** One write. */
export interface WriteRecord {
  readonly op: TimedOp
  /** When the writer's user was told the write is taken; null while pending or if refused. */
  acceptedMs: number | null
  refused: boolean
  /** When each replica first reflected the write (null: not yet). */
  readonly hasMs: (number | null)[]
  /** When the last replica came to reflect it (null: some replica never did). */
  allHaveMs: number | null
}

/** What one scenario's writes add up to. */
export interface WriteSummary {
  /** Writes accepted (from the writer's point of view): their latency is measured. */
  accepted: number
  /** Writes refused at once (the user was told they failed). */
  refusedWrites: number
  writeLatencyP50Ms: number
  writeLatencyP99Ms: number
  visibleLatencyP50Ms: number
  visibleLatencyP99Ms: number
  /** Writes attempted while a partition was in force, at least `writeTimeoutMs` before it healed. */
  partitionWrites: number
  /** Of those, the ones accepted within `writeTimeoutMs`. */
  partitionAccepted: number
  /** `partitionAccepted / partitionWrites` (1 when no write was attempted during a partition). */
  availability: number
  /**
   * After the (last) partition healed, ms until every write attempted before the heal and not
   * refused was on every replica; null without a partition.
   */
  healConvergeMs: number | null
}

/** How long a writer waits to be told its write is taken before it counts as unavailable (ms). */
export const defaultWriteTimeoutMs = 500

/** Nearest-rank percentile of `xs` (0 for none), rounded to 0.1 ms. */
export function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0
  const sorted = [...xs].sort((a, b) => a - b)
  return Math.round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10
}

/** The ledger of one scenario's writes. */
export class WriteLedger {
  readonly records = new Map<number, WriteRecord>()
  private readonly counts = new Map<number, number>()

  constructor (readonly replicas: number, readonly partitions: readonly Partition[], readonly writeTimeoutMs = defaultWriteTimeoutMs) {}

  /** Records an attempt at `now` (before the strategy sees it). */
  attempt (op: TimedOp): WriteRecord {
    const r: WriteRecord = { op, acceptedMs: null, refused: false, hasMs: new Array<number | null>(this.replicas).fill(null), allHaveMs: null }
    this.records.set(op.id, r)
    return r
  }

  /** What the strategy's `local` returned, at `now`. */
  settle (id: number, outcome: WriteOutcome | undefined, now: number): void {
    const r = this.records.get(id)!
    if (outcome === 'refused') { r.refused = true; return }
    if (outcome === 'pending') return
    this.accept(id, now)
    this.has(r.op.replica, id, now)
  }

  /** The writer's user is told the write is taken (first call counts). */
  accept (id: number, now: number): void {
    const r = this.records.get(id)
    if (r && !r.refused && r.acceptedMs === null) r.acceptedMs = now
  }

  /** `replica` reflects write `id` (first call counts); a pending write is accepted when its writer does. */
  has (replica: number, id: number, now: number): void {
    const r = this.records.get(id)
    if (!r || r.hasMs[replica] !== null) return
    r.hasMs[replica] = now
    if (replica === r.op.replica) this.accept(id, now)
    const c = (this.counts.get(id) ?? 0) + 1
    this.counts.set(id, c)
    if (c === this.replicas) r.allHaveMs = now
  }

  /** Latencies of accepted writes: until the writer's user was told, and until every replica had it. */
  latencies (): { write: number[], visible: number[] } {
    const write: number[] = []; const visible: number[] = []
    for (const r of this.records.values()) {
      if (r.acceptedMs !== null) write.push(r.acceptedMs - r.op.time)
      if (r.allHaveMs !== null && !r.refused) visible.push(r.allHaveMs - r.op.time)
    }
    return { write, visible }
  }

  /** The partition in force at `t` for at least `writeTimeoutMs` more, if any. */
  partitionAt (t: number): Partition | undefined {
    return this.partitions.find(p => t >= p.startMs && t + this.writeTimeoutMs <= p.endMs)
  }

  summary (): WriteSummary {
    const { write, visible } = this.latencies()
    let partitionWrites = 0; let partitionAccepted = 0; let refusedWrites = 0
    for (const r of this.records.values()) {
      if (r.refused) refusedWrites++
      const p = this.partitionAt(r.op.time)
      if (!p) continue
      partitionWrites++
      if (r.acceptedMs !== null && r.acceptedMs - r.op.time <= this.writeTimeoutMs) partitionAccepted++
    }
    let healConvergeMs: number | null = null
    const last = this.partitions.reduce<Partition | null>((a, p) => a === null || p.endMs > a.endMs ? p : a, null)
    if (last) {
      healConvergeMs = 0
      for (const r of this.records.values()) {
        if (r.refused || r.op.time >= last.endMs) continue
        if (r.allHaveMs === null) { healConvergeMs = null; break }
        healConvergeMs = Math.max(healConvergeMs, Math.round(r.allHaveMs - last.endMs))
      }
    }
    return {
      accepted: write.length,
      refusedWrites,
      writeLatencyP50Ms: percentile(write, 50),
      writeLatencyP99Ms: percentile(write, 99),
      visibleLatencyP50Ms: percentile(visible, 50),
      visibleLatencyP99Ms: percentile(visible, 99),
      partitionWrites,
      partitionAccepted,
      availability: partitionWrites === 0 ? 1 : Math.round((partitionAccepted / partitionWrites) * 1000) / 1000,
      healConvergeMs,
    }
  }
}
