/**
 * `TandemClient`: a relay's HTTP API from an application (Node 20 or a browser): JSON edits,
 * reads in every format, and the change feed followed across drops.
 *
 * @module
 */
import type { EditOp, EditResult, NodeJson } from '../relay/edits/ops.ts'
import { followEventStream } from './event-stream.ts'

/** Options of {@link TandemClient}. */
export interface TandemClientOptions {
  /** The relay's address: `http(s)://host:port` (a `ws(s)://` address is turned into its HTTP one). */
  url: string
  /** A token (`Authorization: Bearer`), or a function giving the current one (called per request and per reconnect). None on an open relay. */
  token?: string | (() => string | Promise<string>)
  /** `fetch` to use (default: the global one). */
  fetch?: typeof globalThis.fetch
}

/** The read formats: every root as JSON, or the editor's document as ProseMirror JSON, markdown or text. */
export type ReadFormat = 'json' | 'prosemirror' | 'markdown' | 'text'

/** An author of a change. */
export interface FeedAuthor {
  id: string
  name?: string
}

/** A change of a room: what the feed's `changed` event carries. */
export interface ChangedEvent {
  type: 'changed'
  /** The event's id (resume after it with `lastEventId`). */
  id: string
  room: string
  /** The room's state vector after the change (base64, Yjs's encoding). */
  stateVector: string
  authors: FeedAuthor[]
  /** ISO-8601. */
  time: string
  /** The document's JSON, with `include: 'json'`. */
  doc?: unknown
}

/** The feed could not resume where asked (unknown id, past the retention window): refetch what you keep, then go on. */
export interface ResetEvent {
  type: 'reset'
  /** The position to go on from (already taken as the stream's last event id). */
  id: string
  /** The room of a room's feed. */
  room?: string
  reason: string
}

/** An event of the change feed. */
export type FeedEvent = ChangedEvent | ResetEvent

/** Options of {@link TandemClient.events}. */
export interface EventsOptions {
  /** Resume after this event id (a consumer that stored the last id it handled misses nothing). */
  lastEventId?: string
  /** Stops following; the returned promise then resolves. */
  signal?: AbortSignal
  /** Called for every event, in order; a returned promise is awaited first. If it throws, following stops with its error and that event counts as not handled. */
  onEvent: (event: FeedEvent) => void | Promise<void>
  /** Told about each drop (and about an event whose data does not parse, which is skipped). */
  onError?: (error: unknown) => void
  /** Called each time the stream is open (first connection and every reconnection): events from then on arrive. */
  onOpen?: () => void
  /** `'json'`: each `changed` event carries the document (`doc`). */
  include?: 'json'
  /** First reconnection delay when the server sent none (default 1000 ms); doubled per failed attempt up to `maxDelayMs` (default 30 000). */
  initialDelayMs?: number
  maxDelayMs?: number
}

/** A refusal by the relay: its HTTP status and its `{error, reason}`. */
export class TandemError extends Error {
  constructor(
    readonly status: number,
    /** `invalid-operation`, `read-only`, `unauthorized`, … */
    readonly code: string,
    readonly reason: string,
  ) {
    super(`${status} ${code}: ${reason}`)
    this.name = 'TandemError'
  }
}

function httpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '')
}

/** A relay's HTTP API. */
export class TandemClient {
  private readonly base: string
  private readonly fetchImpl: typeof globalThis.fetch
  private readonly token: TandemClientOptions['token']

  constructor(options: TandemClientOptions) {
    this.base = httpBase(options.url)
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.token = options.token
  }

  /**
   * Applies `ops` to `room` as one change (all or nothing), created if new; needs a write token.
   * Rejects with a {@link TandemError} (`invalid-operation` naming the op and the reason, …).
   */
  async edit(room: string, ops: EditOp[]): Promise<EditResult> {
    const response = await this.request(this.roomUrl(room), { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops }) })
    return (await this.answer(response)) as EditResult
  }

  /** The room in `format` (default `json`: every root); null when no such room exists. */
  read(room: string, format?: 'json'): Promise<Record<string, unknown> | null>
  read(room: string, format: 'prosemirror'): Promise<NodeJson | null>
  read(room: string, format: 'markdown' | 'text'): Promise<string | null>
  async read(room: string, format: ReadFormat = 'json'): Promise<unknown> {
    const response = await this.request(`${this.roomUrl(room)}?format=${format}`)
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined)
      return null
    }
    if (!response.ok) return this.answer(response)
    return format === 'markdown' || format === 'text' ? response.text() : response.json()
  }

  /**
   * Follows the change feed of `room` (`'*'`: every room, an admin token on a relay with tokens)
   * until `options.signal` aborts; reconnects after drops with `Last-Event-ID` and backoff.
   * Rejects when the relay refuses for good (401, 403, 404) or `onEvent` throws.
   */
  async events(room: string, options: EventsOptions): Promise<void> {
    const path = room === '*' ? `${this.base}/api/events` : `${this.roomUrl(room)}/events`
    const url = `${path}${options.include ? `?include=${options.include}` : ''}`
    await followEventStream(url, {
      fetch: this.fetchImpl,
      headers: () => this.authHeaders(),
      ...(options.lastEventId !== undefined ? { lastEventId: options.lastEventId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.initialDelayMs !== undefined ? { initialDelayMs: options.initialDelayMs } : {}),
      ...(options.maxDelayMs !== undefined ? { maxDelayMs: options.maxDelayMs } : {}),
      onDisconnect: (error) => options.onError?.(error),
      ...(options.onOpen ? { onOpen: options.onOpen } : {}),
      onMessage: async (message) => {
        if (message.event !== 'changed' && message.event !== 'reset') return // newer event types: ignored
        let data: Record<string, unknown>
        try {
          data = JSON.parse(message.data) as Record<string, unknown>
        } catch (error) {
          options.onError?.(new Error(`feed event ${message.lastEventId} has data that is not JSON`, { cause: error }))
          return
        }
        if (message.event === 'changed') await options.onEvent({ ...(data as Omit<ChangedEvent, 'type'>), type: 'changed', id: typeof data['id'] === 'string' ? data['id'] : message.lastEventId })
        else await options.onEvent({ ...(data as Omit<ResetEvent, 'type' | 'id'>), type: 'reset', id: message.lastEventId })
      },
    })
  }

  private roomUrl(room: string): string {
    return `${this.base}/api/rooms/${encodeURIComponent(room)}`
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const token = typeof this.token === 'function' ? await this.token() : this.token
    return token ? { authorization: `Bearer ${token}` } : {}
  }

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    return this.fetchImpl(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...(await this.authHeaders()) } })
  }

  /** The JSON of a 2xx answer, or the answer's refusal as a {@link TandemError}. */
  private async answer(response: Response): Promise<unknown> {
    const text = await response.text()
    let body: unknown = null
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON
    }
    if (response.ok) return body
    const { error, reason } = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; reason?: unknown }
    throw new TandemError(response.status, typeof error === 'string' ? error : 'http-error', typeof reason === 'string' ? reason : text.slice(0, 200) || response.statusText)
  }
}
