/**
 * The webhook outbox: every message to every endpoint is written to the integrations store
 * (`out\0<seq>`) before it is sent and deleted once the endpoint answered 2xx, so a restart —
 * kill -9 included — sends whatever was not confirmed (at least once).
 *
 * Sending, per endpoint:
 * - Per-room order: a room's messages wait in a queue and only its head is ever in flight, so
 *   no message of a room reaches an endpoint before every earlier one of that room was accepted.
 *   Different rooms go in parallel (up to `concurrency`).
 * - Failures: after a non-2xx answer, a network error or a timeout the endpoint backs off
 *   exponentially with full jitter (`random(0, min(max, base · 2^failures))`) and sends one
 *   message at a time until one succeeds.
 * - Pause: an endpoint failing for longer than `pauseAfterMs` is paused — tried once per
 *   `pausedProbeMs` only —, reported in `/health` (component `webhooks`, degraded) and in
 *   `tandem_webhook_paused_endpoints`; its messages stay in the outbox; the first success resumes it.
 * - Coalescing: a `room.changed` waiting behind others (not in flight) is replaced by a newer
 *   `room.changed` of the same room, which carries the newer state vector and event id and the
 *   authors of both. So an outage costs one waiting message per room and endpoint, not one per
 *   change, and a receiver still learns of every change.
 * - Signing: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
 *   HMAC-SHA256 of id.timestamp.body>`) through the `standardwebhooks` package; the id stays the
 *   same across retries, the timestamp is the attempt's.
 *
 * @module
 */
import { Webhook } from 'standardwebhooks'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Logger } from 'pino'
import type { Health } from '../observability/health.ts'
import type { Author } from '../room/author.ts'
import type { Journal } from './journal.ts'
import { SEP, seqKey, under, type KvOp, type KvStore } from './store.ts'

/** The webhook event types. */
export type WebhookType = 'room.changed' | 'room.created' | 'version.created'

/** One message to one endpoint, as stored. */
export interface WebhookMessage {
  /** `webhook-id`: the same on every attempt. */
  id: string
  endpoint: string
  room: string
  type: WebhookType
  /** The payload's `timestamp` (ISO-8601): when the message was enqueued. */
  timestamp: string
  data: Record<string, unknown>
  /** Milliseconds since the epoch when it was enqueued (delivery latency). */
  enqueuedAt: number
}

interface Entry extends WebhookMessage {
  key: string
  /** Written to the store (only then is it sent). */
  durable: boolean
  inFlight: boolean
  /** Sent as the one probe of a failing endpoint (its failure moves the backoff; a failure of a message sent before the endpoint failed does not). */
  probe: boolean
}

interface Endpoint {
  url: string
  /** The URL's origin (logs: a path or query may hold a token). */
  label: string
  /** Each room's messages, oldest first; rooms in the order they are served. */
  queues: Map<string, Entry[]>
  inFlight: number
  /** Consecutive failures (0: healthy). */
  failures: number
  failingSince: number | null
  paused: boolean
  retryAt: number
  timer: NodeJS.Timeout | null
  lastError: string
}

/** How the outbox sends. */
export interface OutboxOptions {
  endpoints: string[]
  /** `whsec_<base64>`. */
  secret: string
  pauseAfterMs: number
  /** Messages in flight per endpoint while it succeeds (default 8). */
  concurrency?: number
  /** One attempt's timeout (default 10 s). */
  timeoutMs?: number
  /** Backoff after the first failure (default 500 ms), doubling per failure up to `backoffMaxMs` (default 60 s). */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** A paused endpoint is tried this often (default: `pauseAfterMs`, at most 5 minutes). */
  pausedProbeMs?: number
  /** The data sent for a message (default: as stored): adds the document with `--webhook-include json`. */
  decorate?: (message: WebhookMessage) => Promise<Record<string, unknown>>
}

const OUT = `out${SEP}`

/** The outbox and its senders. Create, {@link load}, then {@link start}. */
export class Outbox {
  private readonly endpoints = new Map<string, Endpoint>()
  private readonly webhook: Webhook
  private readonly aborts = new Set<AbortController>()
  private readonly sending = new Set<Promise<void>>()
  private stopped = false
  private started = false
  private entries = 0
  private readonly deliveries: Counter<'result'>
  private readonly latency: Histogram
  private readonly opts: Required<Omit<OutboxOptions, 'decorate'>> & Pick<OutboxOptions, 'decorate'>

  constructor(
    private readonly store: KvStore,
    private readonly journal: Journal,
    private readonly logId: string,
    private readonly logger: Logger,
    registry: Registry,
    private readonly health: Health,
    options: OutboxOptions,
  ) {
    this.opts = {
      concurrency: 8,
      timeoutMs: 10_000,
      backoffBaseMs: 500,
      backoffMaxMs: 60_000,
      pausedProbeMs: Math.min(options.pauseAfterMs, 300_000),
      ...options,
    }
    this.webhook = new Webhook(options.secret)
    for (const url of options.endpoints) {
      this.endpoints.set(url, { url, label: new URL(url).origin, queues: new Map(), inFlight: 0, failures: 0, failingSince: null, paused: false, retryAt: 0, timer: null, lastError: '' })
    }
    const outbox = this
    new Gauge({ name: 'tandem_webhook_outbox_messages', help: 'Webhook messages waiting in the outbox (all endpoints)', registers: [registry], collect() {
      this.set(outbox.entries)
    } })
    new Gauge({ name: 'tandem_webhook_paused_endpoints', help: 'Webhook endpoints paused after failing longer than --webhook-pause-after-ms', registers: [registry], collect() {
      this.set(outbox.pausedCount())
    } })
    this.deliveries = new Counter({ name: 'tandem_webhook_deliveries_total', help: 'Webhook delivery attempts by result (delivered, http-error, network-error)', labelNames: ['result'] as const, registers: [registry] })
    this.latency = new Histogram({
      name: 'tandem_webhook_delivery_seconds',
      help: 'From a webhook message enqueued to its endpoint accepting it (retries included)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    })
  }

  /** Messages waiting (all endpoints). */
  get size(): number {
    return this.entries
  }

  private pausedCount(): number {
    let n = 0
    for (const endpoint of this.endpoints.values()) if (endpoint.paused) n++
    return n
  }

  /** Reads the stored outbox (messages for endpoints no longer configured are dropped, logged). */
  async load(): Promise<void> {
    const dropped = new Map<string, number>()
    const drops: KvOp[] = []
    for (let from: string | undefined; ; ) {
      const page = await this.store.range({ ...(from === undefined ? { gte: OUT } : { gt: from }), lt: under(OUT).lt, limit: 4096 })
      for (const [key, value] of page) {
        const message = JSON.parse(value) as WebhookMessage
        const endpoint = this.endpoints.get(message.endpoint)
        if (!endpoint) {
          dropped.set(new URL(message.endpoint).origin, (dropped.get(new URL(message.endpoint).origin) ?? 0) + 1)
          drops.push({ type: 'del', key })
          continue
        }
        this.push(endpoint, { ...message, key, durable: true, inFlight: false, probe: false })
      }
      if (page.length < 4096) break
      from = page[page.length - 1]![0]
    }
    for (const [endpoint, count] of dropped) this.logger.warn({ endpoint, messages: count }, 'webhooks: dropping stored messages for an endpoint no longer configured')
    if (drops.length > 0) await this.journal.commit(drops)
    if (this.entries > 0) this.logger.info({ messages: this.entries }, 'webhooks: outbox loaded; sending')
  }

  /** Starts sending. */
  start(): void {
    this.started = true
    this.reportHealth()
    for (const endpoint of this.endpoints.values()) this.pump(endpoint)
  }

  private push(endpoint: Endpoint, entry: Entry): void {
    let queue = endpoint.queues.get(entry.room)
    if (!queue) {
      queue = []
      endpoint.queues.set(entry.room, queue)
    }
    queue.push(entry)
    this.entries++
  }

  /**
   * The writes that enqueue a message of `type` about `room` for every endpoint, with `then` to
   * run once they are durable (the messages are sent from then on). `data` gets the same fields
   * for every endpoint. A `room.changed` replaces a waiting one of the same room (see the module).
   */
  enqueue(room: string, type: WebhookType, data: Record<string, unknown>): { ops: KvOp[]; then: () => void } {
    const ops: KvOp[] = []
    const added: Array<[Endpoint, Entry]> = []
    const now = Date.now()
    const timestamp = new Date(now).toISOString()
    for (const endpoint of this.endpoints.values()) {
      const seq = this.journal.next()
      const entry: Entry = { id: `msg_${this.logId}_${seq}`, endpoint: endpoint.url, room, type, timestamp, data, enqueuedAt: now, key: OUT + seqKey(seq), durable: false, inFlight: false, probe: false }
      const queue = endpoint.queues.get(room)
      const tail = queue?.[queue.length - 1]
      if (type === 'room.changed' && tail && tail.type === 'room.changed' && !tail.inFlight) {
        // Replaced in place: the newer state covers the older; the authors of both are kept.
        entry.data = { ...data, authors: mergeAuthors(tail.data.authors as Author[] | undefined, data.authors as Author[] | undefined) }
        entry.enqueuedAt = tail.enqueuedAt
        queue![queue!.length - 1] = entry
        ops.push({ type: 'del', key: tail.key })
      } else {
        this.push(endpoint, entry)
      }
      ops.push({ type: 'put', key: entry.key, value: JSON.stringify(stored(entry)) })
      added.push([endpoint, entry])
    }
    const then = (): void => {
      for (const [endpoint, entry] of added) {
        entry.durable = true
        if (this.started) this.pump(endpoint)
      }
    }
    return { ops, then }
  }

  /** Sends what can be sent now on `endpoint`, and sets its timer for the rest. */
  private pump(endpoint: Endpoint): void {
    if (this.stopped || !this.started) return
    const now = Date.now()
    if (endpoint.failures > 0) {
      // Failing: one message at a time, after the backoff.
      if (endpoint.inFlight > 0) return
      if (now < endpoint.retryAt) return this.wake(endpoint, endpoint.retryAt - now)
      for (const queue of endpoint.queues.values()) {
        const head = queue[0]
        if (head && head.durable && !head.inFlight) return this.send(endpoint, head)
      }
      return
    }
    for (const queue of endpoint.queues.values()) {
      if (endpoint.inFlight >= this.opts.concurrency) return
      const head = queue[0]
      if (head && head.durable && !head.inFlight) this.send(endpoint, head)
    }
  }

  private wake(endpoint: Endpoint, ms: number): void {
    if (endpoint.timer) clearTimeout(endpoint.timer)
    endpoint.timer = setTimeout(() => {
      endpoint.timer = null
      this.pump(endpoint)
    }, ms)
    endpoint.timer.unref()
  }

  private send(endpoint: Endpoint, entry: Entry): void {
    entry.inFlight = true
    entry.probe = endpoint.failures > 0
    endpoint.inFlight++
    const sending: Promise<void> = this.attempt(endpoint, entry).finally(() => this.sending.delete(sending))
    this.sending.add(sending)
  }

  private async attempt(endpoint: Endpoint, entry: Entry): Promise<void> {
    const abort = new AbortController()
    this.aborts.add(abort)
    const timer = setTimeout(() => abort.abort(new Error(`timed out after ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs)
    let error = ''
    let result: 'delivered' | 'http-error' | 'network-error' = 'network-error'
    try {
      const data = this.opts.decorate ? await this.opts.decorate(entry) : entry.data
      const body = JSON.stringify({ type: entry.type, timestamp: entry.timestamp, data })
      const seconds = Math.floor(Date.now() / 1000)
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tandem-relay',
          'webhook-id': entry.id,
          'webhook-timestamp': String(seconds),
          'webhook-signature': this.webhook.sign(entry.id, new Date(seconds * 1000), body),
        },
        body,
        signal: abort.signal,
      })
      await response.body?.cancel().catch(() => undefined)
      result = response.ok ? 'delivered' : 'http-error'
      if (!response.ok) error = `HTTP ${response.status}`
    } catch (cause) {
      error = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)
    } finally {
      clearTimeout(timer)
      this.aborts.delete(abort)
      entry.inFlight = false
      endpoint.inFlight--
    }
    if (this.stopped) return
    this.deliveries.inc({ result })
    if (result === 'delivered') this.delivered(endpoint, entry)
    else this.failed(endpoint, entry, error)
    this.pump(endpoint)
  }

  private delivered(endpoint: Endpoint, entry: Entry): void {
    const now = Date.now()
    this.latency.observe((now - entry.enqueuedAt) / 1000)
    const queue = endpoint.queues.get(entry.room)
    if (queue?.[0] === entry) queue.shift()
    this.entries--
    this.journal.add([{ type: 'del', key: entry.key }])
    // Served last next time round: the rooms share the endpoint fairly.
    endpoint.queues.delete(entry.room)
    if (queue && queue.length > 0) endpoint.queues.set(entry.room, queue)
    if (endpoint.failures > 0) {
      if (endpoint.paused) this.logger.warn({ endpoint: endpoint.label, failingMs: now - (endpoint.failingSince ?? now) }, 'webhooks: endpoint answers again; resumed')
      endpoint.failures = 0
      endpoint.failingSince = null
      if (endpoint.paused) {
        endpoint.paused = false
        this.reportHealth()
      }
    }
  }

  private failed(endpoint: Endpoint, entry: Entry, error: string): void {
    const now = Date.now()
    // The messages in flight when the endpoint started failing count as one failure, not one each.
    if (endpoint.failures > 0 && !entry.probe) return
    endpoint.failures++
    endpoint.failingSince ??= now
    endpoint.lastError = error
    if (!endpoint.paused && now - endpoint.failingSince >= this.opts.pauseAfterMs) {
      endpoint.paused = true
      this.logger.error({ endpoint: endpoint.label, error, failingMs: now - endpoint.failingSince, waiting: this.waiting(endpoint) }, 'webhooks: endpoint failing too long; paused (messages kept, tried again every %d ms)', this.opts.pausedProbeMs)
      this.reportHealth()
    } else if (endpoint.failures === 1) {
      this.logger.warn({ endpoint: endpoint.label, error }, 'webhooks: delivery failed; retrying with backoff')
    }
    const backoff = endpoint.paused ? this.opts.pausedProbeMs : Math.random() * Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** Math.min(endpoint.failures - 1, 30))
    endpoint.retryAt = now + backoff
  }

  private waiting(endpoint: Endpoint): number {
    let n = 0
    for (const queue of endpoint.queues.values()) n += queue.length
    return n
  }

  private reportHealth(): void {
    const paused = [...this.endpoints.values()].filter((e) => e.paused)
    if (paused.length === 0) this.health.set('webhooks', { ok: true })
    else this.health.set('webhooks', { ok: false, detail: `${paused.length} of ${this.endpoints.size} endpoints paused: ${paused.map((e) => `${e.label} (${e.lastError})`).join(', ')}` })
  }

  /** Stops sending: attempts in flight are aborted (their messages stay in the outbox). */
  async stop(): Promise<void> {
    this.stopped = true
    for (const endpoint of this.endpoints.values()) if (endpoint.timer) clearTimeout(endpoint.timer)
    for (const abort of this.aborts) abort.abort(new Error('relay stopping'))
    await Promise.allSettled([...this.sending])
    this.health.delete('webhooks')
  }
}

/** What is stored of an entry. */
function stored(entry: Entry): WebhookMessage {
  return { id: entry.id, endpoint: entry.endpoint, room: entry.room, type: entry.type, timestamp: entry.timestamp, data: entry.data, enqueuedAt: entry.enqueuedAt }
}

/** Authors of both lists, each once (by id; the later name wins). */
export function mergeAuthors(a: Author[] | undefined, b: Author[] | undefined): Author[] {
  const out = new Map<string, Author>()
  for (const author of a ?? []) out.set(author.id, author)
  for (const author of b ?? []) out.set(author.id, author)
  return [...out.values()]
}
