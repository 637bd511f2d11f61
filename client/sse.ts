/**
 * A Server-Sent Events parser (the WHATWG `text/event-stream` format, as `EventSource` reads it),
 * for streams read with `fetch`: decoded text in, complete events out. Lines end with CRLF, LF or
 * CR (a CR at the end of one chunk and an LF at the start of the next are one line end); `data`
 * lines are joined with LF; `id` sets the last event id (kept across events, ignored when it holds
 * NUL); `retry` sets the reconnection delay; comments (`:`) are skipped; an event is dispatched at
 * a blank line only, so an event cut off by a dropped connection is never delivered.
 *
 * @module
 */

/** One dispatched event. */
export interface SseMessage {
  /** The `event` field (default `message`). */
  event: string
  /** The `data` lines joined with LF. */
  data: string
  /** The last event id after this event (the stream's last `id`, possibly from an earlier event). */
  lastEventId: string
}

/** Parses decoded text chunks of one stream into events. */
export class SseParser {
  /** The last event id seen (what a reconnect sends as `Last-Event-ID`). */
  lastEventId: string
  /** The latest `retry` value in milliseconds, or null if the stream sent none. */
  retryMs: number | null = null
  private line = ''
  private pendingCR = false
  private started = false
  private eventType = ''
  private data = ''
  private hasData = false
  private idBuffer: string

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId
    this.idBuffer = lastEventId
  }

  /** Feeds decoded text; returns the events completed by it. */
  push(chunk: string): SseMessage[] {
    if (!this.started && chunk.length > 0) {
      this.started = true
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
    }
    const out: SseMessage[] = []
    let start = 0
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i)
      if (this.pendingCR) {
        this.pendingCR = false
        if (ch === 10) {
          start = i + 1
          continue
        }
      }
      if (ch === 10 || ch === 13) {
        this.line += chunk.slice(start, i)
        this.endLine(out)
        this.pendingCR = ch === 13
        start = i + 1
      }
    }
    this.line += chunk.slice(start)
    return out
  }

  private endLine(out: SseMessage[]): void {
    const line = this.line
    this.line = ''
    if (line === '') {
      this.dispatch(out)
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' comment
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    switch (field) {
      case 'event':
        this.eventType = value
        break
      case 'data':
        this.data += this.hasData ? '\n' + value : value
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value)
        break
    }
  }

  private dispatch(out: SseMessage[]): void {
    this.lastEventId = this.idBuffer
    if (this.hasData) out.push({ event: this.eventType || 'message', data: this.data, lastEventId: this.lastEventId })
    this.eventType = ''
    this.data = ''
    this.hasData = false
  }
}
