/**
 * `TandemClient.events` against a small node:http SSE server that misbehaves on purpose: it drops
 * the connection in the middle of an event, ends a stream cleanly, answers 503 once, then sends
 * CRLF lines split at odd bytes (a multi-byte character cut in two). The consumer must get every
 * event exactly once, in order, resuming each time with the `Last-Event-ID` of the last event it
 * handled, with the token on every attempt; a final refusal (403) ends it, as does its signal.
 */
import { describe, expect, it } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TandemClient, type FeedEvent } from '../../../client/index.ts'
import { EventStreamError } from '../../../client/event-stream.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

interface Seen {
  path: string
  lastEventId: string | undefined
  authorization: string | undefined
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse, attempt: number) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', lastEventId: req.headers['last-event-id'] as string | undefined, authorization: req.headers.authorization })
    handler(req, res, seen.length)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const N = 20
const data = (i: number): string => JSON.stringify({ room: 'r', id: `e${i}`, stateVector: 'AQID', authors: [{ id: 'u', name: 'Zoë ✓' }], time: new Date(0).toISOString() })
const event = (i: number, eol = '\n'): string => `id: e${i}${eol}event: changed${eol}data: ${data(i)}${eol}${eol}`
const after = (id: string | undefined): number => (id ? Number(id.slice(1)) : 0)

function open(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(': hello\nretry: 20\n\n')
}

describe('TandemClient.events: the change feed followed across drops', () => {
  it('resumes with Last-Event-ID after a drop mid-event, a clean end and a 503; every event once, in order', async () => {
    const { url, seen } = await serve((req, res, attempt) => {
      const from = after(req.headers['last-event-id'] as string | undefined) + 1
      if (attempt === 1) {
        open(res)
        for (let i = from; i <= 5; i++) res.write(event(i))
        // event 6 cut off in its data line, then the connection dropped
        res.write(event(6).slice(0, 40))
        setImmediate(() => res.socket?.destroy())
      } else if (attempt === 2) {
        open(res)
        for (let i = from; i <= 12; i++) res.write(event(i))
        res.end()
      } else if (attempt === 3) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"going-away","reason":"restarting"}')
      } else {
        open(res)
        // CRLF lines, a reset among them, and the bytes written in pieces that split a multi-byte character
        const text = Array.from({ length: N - from + 1 }, (_, k) => event(from + k, '\r\n')).join('') + `id: e${N}\r\nevent: reset\r\ndata: {"room":"r","reason":"test"}\r\n\r\n`
        const bytes = Buffer.from(text)
        const cut = bytes.indexOf(Buffer.from('✓')) + 1
        res.write(bytes.subarray(0, cut))
        setImmediate(() => {
          res.write(bytes.subarray(cut, cut + 7))
          setImmediate(() => res.write(bytes.subarray(cut + 7)))
        })
      }
    })
    let tokens = 0
    const client = new TandemClient({ url, token: () => `t${++tokens}` })
    const events: FeedEvent[] = []
    const errors: unknown[] = []
    const abort = new AbortController()
    const following = client.events('r', { signal: abort.signal, onEvent: (e) => void events.push(e), onError: (e) => void errors.push(e), initialDelayMs: 10 })
    await waitFor(() => events.some((e) => e.type === 'reset'), { timeoutMs: 20_000, message: 'every event and the reset' })
    abort.abort()
    await following

    const changed = events.filter((e) => e.type === 'changed')
    expect(changed.map((e) => e.id)).toEqual(Array.from({ length: N }, (_, i) => `e${i + 1}`))
    expect(changed[0]).toEqual({ type: 'changed', room: 'r', id: 'e1', stateVector: 'AQID', authors: [{ id: 'u', name: 'Zoë ✓' }], time: new Date(0).toISOString() })
    expect(events.at(-1)).toEqual({ type: 'reset', id: `e${N}`, room: 'r', reason: 'test' })
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, 'e5', 'e12', 'e12'])
    expect(seen.map((s) => s.path)).toEqual(Array(4).fill('/api/rooms/r/events'))
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3', 'Bearer t4'])
    expect(errors).toHaveLength(3) // the drop, the end, the 503
  })

  it('starts from lastEventId; the all-rooms feed and ?include=json; a 403 is final (no retry)', async () => {
    const { url, seen } = await serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"forbidden","reason":"not an admin token"}')
    })
    const client = new TandemClient({ url: url.replace('http', 'ws') + '/', token: 'admin' })
    const refused = await client.events('*', { lastEventId: 'e41', include: 'json', onEvent: () => undefined }).then(
      () => null,
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(EventStreamError)
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' })
    expect(seen).toEqual([{ path: '/api/events?include=json', lastEventId: 'e41', authorization: 'Bearer admin' }])
  })

  it('an onEvent that throws stops following with its error, and that event is not taken as handled', async () => {
    const { url, seen } = await serve((req, res) => {
      open(res)
      const from = after(req.headers['last-event-id'] as string | undefined) + 1
      for (let i = from; i <= 3; i++) res.write(event(i))
    })
    const client = new TandemClient({ url })
    const handled: string[] = []
    const failed = await client
      .events('r', {
        onEvent: (e) => {
          if (e.id === 'e2') throw new Error('handler broke')
          handled.push(e.id)
        },
      })
      .then(
        () => null,
        (error: unknown) => error,
      )
    expect((failed as Error).message).toBe('handler broke')
    expect(handled).toEqual(['e1'])
    // resuming from what was handled gets e2 again
    const abort = new AbortController()
    const again: string[] = []
    const following = client.events('r', { lastEventId: handled.at(-1)!, signal: abort.signal, onEvent: (e) => void again.push(e.id) })
    await waitFor(() => again.length === 2, { message: 'e2 and e3 again' })
    abort.abort()
    await following
    expect(again).toEqual(['e2', 'e3'])
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, 'e1'])
  })
})
