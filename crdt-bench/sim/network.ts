/**
 * The network model: point-to-point links between replicas with latency and jitter (so
 * messages reorder), duplication, drops with retransmission, partitions that heal, and one
 * clock per replica with a configurable skew. Everything random comes from one seeded PRNG,
 * so a run is a pure function of its seed.
 *
 * Delivery is reliable in the end, as over TCP with reconnects: a dropped transmission, or one
 * sent across a partition, is retransmitted after `rtoMs` until it gets through. Every
 * transmission (first send, retransmission, duplicate) is counted on the wire.
 */
import * as prng from 'lib0/prng'
import { EventQueue } from './event-queue.ts'

/** Link and clock parameters. */
export interface NetworkConfig {
  /** Base one-way latency (ms). */
  readonly latencyMs: number
  /** Extra uniform random delay in [0, jitterMs) per transmission; reorders messages. */
  readonly jitterMs: number
  /** Probability that a transmission is lost (then retransmitted after `rtoMs`). */
  readonly dropRate: number
  /** Probability that a delivered transmission is also delivered a second time. */
  readonly dupRate: number
  /** Retransmission timeout (ms). */
  readonly rtoMs: number
  /** Each replica's clock is off by a uniform value in [-clockSkewMs, +clockSkewMs]. */
  readonly clockSkewMs: number
  /** Partitions: during [startMs, endMs) no message crosses between `side` and the rest. */
  readonly partitions: readonly Partition[]
}

/** A partition that cuts `side` (replica indices) off from every other replica, then heals. */
export interface Partition { readonly startMs: number, readonly endMs: number, readonly side: readonly number[] }

/** A calm network: 20-60 ms, no loss, no skew, no partition. */
export const calmNetwork: NetworkConfig = {
  latencyMs: 20, jitterMs: 40, dropRate: 0, dupRate: 0, rtoMs: 200, clockSkewMs: 0, partitions: [],
}

/** Wire counters of one run. */
export interface WireStats { messages: number, bytes: number, drops: number, duplicates: number, retransmissions: number }

/** Handler of a delivered message at replica `to`. */
export type Receiver<M> = (to: number, from: number, msg: M) => void

/** A simulated network of `n` replicas carrying messages of type `M` with a byte size. */
export class Network<M> {
  readonly queue = new EventQueue()
  readonly stats: WireStats = { messages: 0, bytes: 0, drops: 0, duplicates: 0, retransmissions: 0 }
  readonly skew: readonly number[]
  /** Time of the last delivery (ms). */
  lastDelivery = 0
  private readonly rng: prng.PRNG
  private receiver: Receiver<M> = () => {}

  constructor (readonly n: number, readonly config: NetworkConfig, seed: number) {
    this.rng = prng.create(seed)
    this.skew = Array.from({ length: n }, () => Math.round((prng.real53(this.rng) * 2 - 1) * config.clockSkewMs))
  }

  /** Sets the function that receives every delivered message. */
  onReceive (r: Receiver<M>): void { this.receiver = r }

  /** Simulated time (ms). */
  get now (): number { return this.queue.now }

  /** Replica `i`'s wall clock: simulated time plus its skew. */
  clock (i: number): number { return this.queue.now + this.skew[i]! }

  /** A uniform random number in [0, 1) from the run's PRNG (for workloads sharing the seed). */
  random (): number { return prng.real53(this.rng) }

  /** Whether `a` and `b` are on different sides of an active partition at time `t`. */
  partitioned (a: number, b: number, t = this.now): boolean {
    for (const p of this.config.partitions) {
      if (t >= p.startMs && t < p.endMs && p.side.includes(a) !== p.side.includes(b)) return true
    }
    return false
  }

  /** Sends `msg` (`bytes` long on the wire) from `from` to `to`; delivery is eventually certain. */
  send (from: number, to: number, msg: M, bytes: number): void {
    this.transmit(from, to, msg, bytes, false)
  }

  /** Runs the simulation until no event is left (or `limit` ms). */
  run (limit = Infinity): void { this.queue.run(limit) }

  private transmit (from: number, to: number, msg: M, bytes: number, retry: boolean): void {
    const c = this.config
    this.stats.messages++
    this.stats.bytes += bytes
    if (retry) this.stats.retransmissions++
    if (this.partitioned(from, to) || prng.real53(this.rng) < c.dropRate) {
      this.stats.drops++
      this.queue.at(this.now + c.rtoMs, () => this.transmit(from, to, msg, bytes, true))
      return
    }
    this.deliverAt(this.now + c.latencyMs + prng.real53(this.rng) * c.jitterMs, from, to, msg)
    if (prng.real53(this.rng) < c.dupRate) {
      this.stats.duplicates++
      this.stats.messages++
      this.stats.bytes += bytes
      this.deliverAt(this.now + c.latencyMs + prng.real53(this.rng) * c.jitterMs, from, to, msg)
    }
  }

  private deliverAt (t: number, from: number, to: number, msg: M): void {
    this.queue.at(Math.round(t * 1000) / 1000, () => {
      this.lastDelivery = this.now
      this.receiver(to, from, msg)
    })
  }
}
