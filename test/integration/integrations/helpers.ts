/**
 * Helpers of the integrations suites: an SSE consumer over a real HTTP connection (fetch,
 * parsed line by line as the EventSource spec says), a webhook receiver on 127.0.0.1 that can fail
 * on demand, HTTP writes of Yjs updates, and state-vector checks.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as Y from 'yjs'
import { expect } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { waitFor } from '../../fixtures/wait.ts'
import { mulberry32 } from '../../../scripts/chaos/rng.ts'

/** One SSE event as a consumer sees it. */
export interface SseEvent {
  id: string | undefined
  event: string
  data: string
}

/** The data of a `changed` event. */
export interface Changed {
  room: string
  id: string
  stateVector: string
  authors: Array<{ id: string; name?: string }>
  time: string
  doc?: Record<string, unknown>
}

/** A consumer of a change feed stream. */
export class SseConsumer {
  readonly events: SseEvent[] = []
  comments = 0
  status = 0
  ended = false
  /** The id of the last event that had one (what EventSource would send as Last-Event-ID). */
  lastEventId: string | undefined
  private readonly abort = new AbortController()

  private constructor(readonly url: string) {}

  /** Opens `url` (Last-Event-ID and bearer token when given); resolves once the response headers are in. */
  static async open(url: string, opts: { lastEventId?: string; token?: string } = {}): Promise<SseConsumer> {
    const consumer = new SseConsumer(url)
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
    consumer.lastEventId = opts.lastEventId
    const response = await fetch(url, { headers, signal: consumer.abort.signal })
    consumer.status = response.status
    if (!response.ok || !response.body) {
      consumer.ended = true
      await response.body?.cancel().catch(() => undefined)
      return consumer
    }
    void consumer.read(response.body)
    return consumer
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    let current: { id?: string; event?: string; data: string[] } = { data: [] }
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let nl: number
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          if (line === '') {
            if (current.data.length > 0 || current.event !== undefined) {
              if (current.id !== undefined) this.lastEventId = current.id
              this.events.push({ id: current.id, event: current.event ?? 'message', data: current.data.join('\n') })
            }
            current = { data: [] }
          } else if (line.startsWith(':')) {
            this.comments++
          } else {
            const colon = line.indexOf(':')
            const field = colon < 0 ? line : line.slice(0, colon)
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (field === 'id') current.id = value
            else if (field === 'event') current.event = value
            else if (field === 'data') current.data.push(value)
          }
        }
      }
    } catch {
      // aborted or cut
    }
    this.ended = true
  }

  /** The `changed` events' data, in order. */
  changed(): Changed[] {
    return this.events.filter((e) => e.event === 'changed').map((e) => JSON.parse(e.data) as Changed)
  }

  /** The `reset` events' data. */
  resets(): Array<{ room?: string; reason: string }> {
    return this.events.filter((e) => e.event === 'reset').map((e) => JSON.parse(e.data) as { room?: string; reason: string })
  }

  close(): void {
    this.abort.abort()
  }
}

/** POSTs `update` to `room` (with a token when given); resolves with the status. */
export async function postUpdate(httpUrl: string, room: string, update: Uint8Array, token?: string): Promise<number> {
  const response = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: update as Uint8Array<ArrayBuffer>,
  })
  await response.body?.cancel()
  return response.status
}

/** A writer of one room over HTTP: each `write` inserts text in its own Y.Doc and posts the update. */
export class HttpWriter {
  readonly doc = new Y.Doc()
  constructor(
    readonly httpUrl: string,
    readonly room: string,
    readonly token?: string,
  ) {}

  /** Inserts `text` and posts the update; resolves with the status. */
  async write(text: string): Promise<number> {
    const before = Y.encodeStateVector(this.doc)
    this.doc.getText('t').insert(this.doc.getText('t').length, text)
    return postUpdate(this.httpUrl, this.room, Y.encodeStateAsUpdate(this.doc, before), this.token)
  }

  /** The writer's own state vector (client → clock). */
  clock(): number {
    return Y.getState(this.doc.store, this.doc.clientID)
  }
}

/** A base64 state vector decoded to client → clock. */
export function decodeSv(base64: string): Map<number, number> {
  return Y.decodeStateVector(new Uint8Array(Buffer.from(base64, 'base64')))
}

/** Whether state vector `a` covers `b`. */
export function covers(a: Map<number, number>, b: Map<number, number>): boolean {
  for (const [client, clock] of b) if ((a.get(client) ?? 0) < clock) return false
  return true
}

/** The seq number inside an opaque event id (`<log>-<seq>`; tests only: the id's format is not API). */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1))
}

/** One request a receiver got. */
export interface Received {
  headers: Record<string, string>
  body: string
  /** The status answered. */
  status: number
  /** When the request arrived, and when the answer was sent (performance.now()). */
  at: number
}

/** A webhook receiver on 127.0.0.1: answers 2xx or, with `failRate`, 500; `down()` closes its port. */
export class Receiver {
  readonly requests: Received[] = []
  /** Probability of answering 500 (seeded PRNG). */
  failRate = 0
  /** Answer every request with this status instead (e.g. 503), when set. */
  forceStatus: number | null = null
  /** Requests in flight per room (a room with two at once breaks per-room order). */
  readonly inFlight = new Map<string, number>()
  overlaps = 0
  private server: Server | null = null
  private rand: () => number
  port = 0

  constructor(seed = 1) {
    this.rand = mulberry32(seed)
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`
  }

  /** Listens (on `port`, or a free one the first time). */
  async up(port = this.port): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Stops listening and cuts every open connection (connections are then refused). */
  async down(): Promise<void> {
    const server = this.server
    this.server = null
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let room = ''
      try {
        room = (JSON.parse(body) as { data: { room: string } }).data.room
      } catch {
        // not JSON: recorded all the same
      }
      const open = (this.inFlight.get(room) ?? 0) + 1
      this.inFlight.set(room, open)
      if (open > 1) this.overlaps++
      const status = this.forceStatus ?? (this.rand() < this.failRate ? 500 : 204)
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
      // Answered a little later, so two concurrent requests of one room would overlap here.
      setTimeout(() => {
        this.inFlight.set(room, (this.inFlight.get(room) ?? 1) - 1)
        // Cut by down() before the answer: the relay never learns it, so it is not accepted (the
        // relay sends it again, as it must); recorded as a 599 so signatures are still checked.
        const cut = res.destroyed || res.socket === null || res.socket.destroyed
        this.requests.push({ headers, body, status: cut ? 599 : status, at: performance.now() })
        if (!cut) res.writeHead(status).end()
      }, 3)
    })
  }

  /** The accepted (2xx) requests' payloads, in the order they were answered. */
  accepted(): Array<{ id: string; type: string; timestamp: string; data: Record<string, unknown> & { room: string } }> {
    return this.requests
      .filter((r) => r.status < 300)
      .map((r) => ({ id: r.headers['webhook-id'] as string, ...(JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> & { room: string } }) }))
  }
}

/** Waits until `consumer` has at least `n` events. */
export function waitEvents(consumer: SseConsumer, n: number, timeoutMs = 20_000): Promise<boolean> {
  return waitFor(() => consumer.events.length >= n, { timeoutMs, message: `${n} feed events (have ${consumer.events.length})` })
}

/** A Standard Webhooks secret for tests. */
export const WEBHOOK_SECRET = `whsec_${Buffer.from('tandem-test-webhook-key-0123456789').toString('base64')}`

/** Every request's signature verifies with the Standard Webhooks library (and a wrong secret fails). */
export function expectSigned(rec: Receiver): void {
  const wh = new Webhook(WEBHOOK_SECRET)
  const wrong = new Webhook(`whsec_${Buffer.from('another-key-0123456789abcdef').toString('base64')}`)
  for (const request of rec.requests) {
    expect(() => wh.verify(request.body, request.headers)).not.toThrow()
    expect(() => wrong.verify(request.body, request.headers)).toThrow()
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
  }
}

/**
 * Per room: no message is sent while an earlier one of the room is unaccepted (a failed
 * `room.changed` may only be superseded by a newer `room.changed`), requests never overlap, event
 * ids never go back, `room.created` comes first. The outbox order is read from the webhook-id
 * (`msg_<log>_<seq>`: test knowledge, not API).
 */
export function expectOrdered(rec: Receiver): void {
  const byRoom = new Map<string, Array<{ type: string; seq: number; outboxSeq: number; id: string; status: number }>>()
  for (const request of rec.requests) {
    const body = JSON.parse(request.body) as { type: string; data: { room: string; eventId?: string } }
    const id = request.headers['webhook-id'] as string
    const list = byRoom.get(body.data.room) ?? []
    list.push({ type: body.type, seq: body.data.eventId ? seqOf(body.data.eventId) : -1, outboxSeq: Number(id.slice(id.lastIndexOf('_') + 1)), id, status: request.status })
    byRoom.set(body.data.room, list)
  }
  for (const [room, list] of byRoom) {
    let last = -1
    let created = false
    const unaccepted = new Map<string, { type: string; outboxSeq: number }>()
    for (const item of list) {
      for (const [id, earlier] of unaccepted) {
        if (earlier.outboxSeq >= item.outboxSeq || id === item.id) continue
        expect(`${earlier.type} ${earlier.outboxSeq} → ${item.type} ${item.outboxSeq}`, `${room}: sent past an unaccepted earlier message`).toMatch(/^room\.changed \d+ → room\.changed \d+$/)
        unaccepted.delete(id)
      }
      if (item.status < 300) unaccepted.delete(item.id)
      else unaccepted.set(item.id, item)
      if (item.type === 'version.created') continue
      if (item.type === 'room.created') {
        expect(created, `${room}: room.created accepted once before`).toBe(false)
        if (item.status < 300) created = true
      } else {
        expect(created, `${room}: room.changed before room.created was accepted`).toBe(true)
      }
      expect(item.seq, `${room}: went back in event order`).toBeGreaterThanOrEqual(last)
      last = item.seq
    }
  }
  expect(rec.overlaps).toBe(0)
}

/** The last accepted `room.changed` of `room` covers everything `writer` wrote. */
export function delivered(rec: Receiver, writer: HttpWriter): boolean {
  const last = rec.accepted().filter((m) => m.type === 'room.changed' && m.data.room === writer.room).at(-1)
  return last !== undefined && covers(decodeSv(last.data.stateVector as string), new Map([[writer.doc.clientID, writer.clock()]]))
}
