/**
 * Following a Server-Sent Events stream over `fetch` (Node 20 and browsers: `fetch` can send an
 * `Authorization` header, which `EventSource` cannot), reconnecting after every drop with
 * `Last-Event-ID` so the server resumes where the consumer stopped.
 *
 * Reconnects: after a stream ends or fails, wait and connect again. The wait is the server's
 * `retry` (or `initialDelayMs`) doubled per consecutive failed attempt up to `maxDelayMs`, with
 * jitter (a random 50–100 % of it) so consumers dropped together do not return together; an
 * attempt that delivered an event resets the doubling. 401, 403, 404 and 400 are final (a bad
 * token or room does not heal by retrying): the returned promise rejects, and so it does with
 * the error of an `onMessage` that throws (that event's id is not taken as consumed). Aborting
 * `signal` resolves it.
 *
 * @module
 */
import { SseParser, type SseMessage } from './sse.ts'

/** Options of {@link followEventStream}. */
export interface EventStreamOptions {
  /** `fetch` to use (default: the global one). */
  fetch?: typeof globalThis.fetch
  /** Headers of every attempt (called before each, so a refreshed token is used on reconnect). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>
  /** Resume after this event id (sent as `Last-Event-ID` on the first attempt too). */
  lastEventId?: string
  /** Stops following; the promise then resolves. */
  signal?: AbortSignal
  /** Called for every event, in order; a returned promise is awaited before the next event is read. */
  onMessage: (message: SseMessage) => void | Promise<void>
  /** Called when an attempt fails or a stream ends, with the delay before the next attempt. */
  onDisconnect?: (error: unknown, delayMs: number) => void
  /** Called when a stream is open (the response arrived with status 200). */
  onOpen?: () => void
  /** First reconnection delay when the server sent no `retry` (default 1000 ms). */
  initialDelayMs?: number
  /** Longest reconnection delay (default 30 000 ms). */
  maxDelayMs?: number
}

/** A refusal that retrying cannot fix (HTTP 400, 401, 403, 404), or a non-SSE answer. */
export class EventStreamError extends Error {
  constructor(
    message: string,
    /** The HTTP status, 0 when the answer was not an event stream. */
    readonly status: number,
    /** The server's error code (`unauthorized`, `forbidden`, …) when it sent one. */
    readonly code?: string,
  ) {
    super(message)
    this.name = 'EventStreamError'
  }
}

const FINAL = new Set([400, 401, 403, 404])

/** `onMessage` threw: following stops with its error (the event is not counted as consumed). */
class HandlerFailed {
  constructor(readonly cause: unknown) {}
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

async function refusal(response: Response): Promise<EventStreamError> {
  let code: string | undefined
  let reason = response.statusText
  try {
    const body = (await response.json()) as { error?: unknown; reason?: unknown }
    if (typeof body.error === 'string') code = body.error
    if (typeof body.reason === 'string') reason = body.reason
  } catch {
    // not JSON: the status says enough
  }
  return new EventStreamError(`event stream refused: ${response.status} ${reason}`, response.status, code)
}

/**
 * Follows the event stream at `url` until `options.signal` aborts (resolves) or the server refuses
 * for good (rejects with an {@link EventStreamError}).
 */
export async function followEventStream(url: string, options: EventStreamOptions): Promise<void> {
  const fetchImpl = options.fetch ?? globalThis.fetch
  const { signal } = options
  const initial = options.initialDelayMs ?? 1000
  const max = options.maxDelayMs ?? 30_000
  let lastEventId = options.lastEventId ?? ''
  let serverRetry: number | null = null
  let failures = 0
  while (!signal?.aborted) {
    let failure: unknown = null
    let delivered = false
    try {
      // only CORS-safelisted headers beside the token and Last-Event-ID (the relay's CORS allows those)
      const headers: Record<string, string> = { accept: 'text/event-stream', ...(await options.headers?.()) }
      if (lastEventId !== '') headers['last-event-id'] = lastEventId
      const response = await fetchImpl(url, { headers, cache: 'no-store', ...(signal ? { signal } : {}) })
      if (FINAL.has(response.status)) throw await refusal(response)
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel().catch(() => undefined)
        throw new Error(`event stream answered ${response.status}`)
      }
      const type = response.headers.get('content-type') ?? ''
      if (!type.startsWith('text/event-stream')) {
        await response.body.cancel().catch(() => undefined)
        throw new EventStreamError(`not an event stream (content-type ${JSON.stringify(type)})`, 0)
      }
      options.onOpen?.()
      const parser = new SseParser(lastEventId)
      const decoder = new TextDecoder()
      const reader = response.body.getReader()
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            try {
              await options.onMessage(message)
            } catch (error) {
              throw new HandlerFailed(error)
            }
            lastEventId = message.lastEventId
            delivered = true
          }
          // an id can also arrive with an event without data (the spec keeps it)
          lastEventId = parser.lastEventId
          if (parser.retryMs !== null) serverRetry = parser.retryMs
        }
      } finally {
        reader.releaseLock()
      }
      failure = new Error('event stream ended')
    } catch (error) {
      if (signal?.aborted) return
      if (error instanceof EventStreamError) throw error
      if (error instanceof HandlerFailed) throw error.cause
      failure = error
    }
    failures = delivered ? 1 : failures + 1
    const base = Math.min(max, (serverRetry ?? initial) * 2 ** (failures - 1))
    const delay = Math.round(base * (0.5 + Math.random() * 0.5))
    options.onDisconnect?.(failure, delay)
    await abortable(delay, signal)
  }
}
