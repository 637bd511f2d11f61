/**
 * One consumer of the change feed as a Server-Sent Events stream. The stream is pulled: the HTTP
 * server asks for the next chunk only when the socket drained the last one, and each chunk is
 * read from the feed's log at that moment (from memory for consumers that keep up, from the store
 * for those behind). So a slow consumer costs one page of events, never a growing buffer; one
 * that falls behind the retention window gets a `reset`.
 *
 * Wire format:
 * - `id: <id>` / `event: changed` / `data: {"room","id","stateVector","authors":[{"id","name"?}],"time","doc"?}`
 * - `id: <position>` / `event: reset` / `data: {"room"?,"reason"}` — the consumer's Last-Event-ID
 *   is unknown or past the retention window (or it fell that far behind): refetch, then go on
 *   from this id.
 * - `: heartbeat` comments while nothing happens.
 *
 * @module
 */
import type { FeedEvent, FeedLog, Resume } from './feed-log.ts'

/** What a stream needs. */
export interface FeedStreamOptions {
  log: FeedLog
  /** The room of a room's feed; undefined: every room. */
  room: string | undefined
  resume: Resume
  /** The document's JSON for `?include=json` (null: the room has none). */
  docJson?: (room: string) => Promise<unknown>
  heartbeatMs: number
  /** Checks the consumer's access again (token expiry, revocation); false ends the stream. Run at most once per heartbeat interval. */
  recheck: () => Promise<boolean>
  /** The stream ended (consumer gone, access lost, relay stopping). */
  onClose: () => void
}

/** Events per chunk. */
const PAGE = 64
const encoder = new TextEncoder()

/** A running stream: the body to answer with, and a way to end it. */
export interface FeedStream {
  body: ReadableStream<Uint8Array>
  close(): void
}

/** The SSE lines of a `changed` event. */
export async function formatChanged(log: FeedLog, event: FeedEvent, docJson?: (room: string) => Promise<unknown>): Promise<string> {
  const id = log.idOf(event.seq)
  const data: Record<string, unknown> = { room: event.room, id, stateVector: event.stateVector, authors: event.authors, time: event.time }
  if (docJson) {
    const doc = await docJson(event.room)
    if (doc !== null && doc !== undefined) data.doc = doc
  }
  return `id: ${id}\nevent: changed\ndata: ${JSON.stringify(data)}\n\n`
}

/** Opens a stream for one consumer. */
export function openFeedStream(options: FeedStreamOptions): FeedStream {
  const { log, room } = options
  let cursor: number
  let reset: string | null = null
  if ('reset' in options.resume) {
    reset = options.resume.reset
    cursor = log.published
  } else {
    cursor = options.resume.seq
  }
  let closed = false
  let wake: (() => void) | null = null
  let lastCheck = Date.now()
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null
  const unsubscribe = log.onPublish(() => wake?.())
  const end = (): void => {
    if (closed) return
    closed = true
    unsubscribe()
    wake?.()
    options.onClose()
  }
  const resetChunk = (reason: string): Uint8Array => {
    cursor = log.published
    const data = room === undefined ? { reason } : { room, reason }
    return encoder.encode(`id: ${log.idOf(cursor)}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`)
  }

  /** The next chunk to send, or null when the stream ends. */
  const next = async (): Promise<Uint8Array | null> => {
    for (;;) {
      if (closed) return null
      if (Date.now() - lastCheck >= options.heartbeatMs) {
        lastCheck = Date.now()
        if (!(await options.recheck())) return null
      }
      if (reset !== null) {
        const chunk = resetChunk(reset)
        reset = null
        return chunk
      }
      if (log.behind(cursor, room)) return resetChunk('past the retention window')
      const { events, through } = await log.read(cursor, room, PAGE)
      if (closed) return null
      if (events.length > 0) {
        let text = ''
        for (const event of events) text += await formatChanged(log, event, options.docJson)
        cursor = through
        return encoder.encode(text)
      }
      cursor = through
      // Nothing new: wait for the next event or the heartbeat (a publish between the read and
      // here is seen by the check below; the listener runs on the same thread).
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake = null
          resolve(false)
        }, Math.max(1, options.heartbeatMs - (Date.now() - lastCheck)))
        wake = () => {
          clearTimeout(timer)
          wake = null
          resolve(true)
        }
        if (log.published > cursor) wake()
      })
      if (!woke && !closed) return encoder.encode(': heartbeat\n\n')
    }
  }

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        // Sent at once, so the response's headers leave now (and proxies see a live stream).
        c.enqueue(encoder.encode(': tandem change feed\nretry: 2000\n\n'))
      },
      async pull(c) {
        try {
          const chunk = await next()
          if (chunk === null) {
            end()
            c.close()
          } else {
            c.enqueue(chunk)
          }
        } catch (error) {
          end()
          c.error(error)
        }
      },
      cancel() {
        end()
      },
    },
    { highWaterMark: 1 },
  )
  return {
    body,
    close() {
      if (closed) return
      end()
      try {
        controller?.close()
      } catch {
        // already closed or errored
      }
    },
  }
}
