/**
 * The relay's Prometheus metrics, on a registry of its own (several relays can share a process).
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Health } from './health.ts'

/**
 * A counter moved on every frame: summed in a plain number and handed to prom-client when the
 * registry is read (prom-client's `inc` allocates a labels object per call, and this runs once
 * per delivered frame).
 */
class FrameCounter {
  private pending = 0
  readonly counter: Counter

  constructor(name: string, help: string, registry: Registry) {
    const take = (): number => {
      const n = this.pending
      this.pending = 0
      return n
    }
    this.counter = new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const n = take()
        if (n > 0) this.inc(n)
      },
    })
  }

  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.pending += n
  }
}

/** Every metric the relay core moves. */
export class RelayMetrics {
  readonly registry = new Registry()
  readonly connections = new Gauge({ name: 'tandem_connections', help: 'Open client WebSocket connections', registers: [this.registry] })
  readonly roomsLoaded = new Gauge({ name: 'tandem_rooms_loaded', help: 'Rooms loaded in memory', registers: [this.registry] })
  readonly updatesIn = new FrameCounter('tandem_updates_in_total', 'Yjs updates accepted (WebSocket and HTTP)', this.registry)
  readonly updatesOut = new FrameCounter('tandem_updates_out_total', 'Yjs update messages sent to clients', this.registry)
  readonly bytesIn = new FrameCounter('tandem_bytes_in_total', 'Bytes received from clients', this.registry)
  readonly bytesOut = new FrameCounter('tandem_bytes_out_total', 'Bytes sent to clients', this.registry)
  readonly storeLatency = new Histogram({
    name: 'tandem_store_latency_seconds',
    help: 'Storage latency by operation',
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly errors = new Counter({ name: 'tandem_errors_total', help: 'Refusals and failures by code', labelNames: ['code'] as const, registers: [this.registry] })

  readonly authDecisions = new Counter({
    name: 'tandem_auth_decisions_total',
    help: 'Access decisions: result is the right granted (read, write) or the refusal code',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })
  readonly limitsHit = new Counter({
    name: 'tandem_limit_exceeded_total',
    help: 'Times a configured limit was hit, by limit (message-size, messages-per-second, bytes-per-second, connections-per-ip, rooms-per-minute, pending-messages, awareness-size, awareness-per-second, buffered-bytes, http-body)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  })
  readonly updatesRefused = new Counter({ name: 'tandem_updates_refused_total', help: 'Document updates refused from read-only holders', registers: [this.registry] })

  readonly healthOk = new Gauge({ name: 'tandem_health_ok', help: 'Per component: 1 ok, 0 degraded', labelNames: ['component'] as const, registers: [this.registry] })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tandem_' })
  }

  /** Mirrors `health` into `tandem_health_ok{component}`. */
  watchHealth(health: Health): void {
    health.onChange((report) => {
      this.healthOk.reset()
      for (const [component, state] of Object.entries(report.components)) this.healthOk.set({ component }, state.ok ? 1 : 0)
    })
  }
}
