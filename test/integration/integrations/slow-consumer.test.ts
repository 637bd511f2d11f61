/**
 * A consumer that does not read costs one page, never a growing buffer: the feed stream is pulled,
 * so while nobody reads it produces nothing, whatever is published meanwhile; when the consumer
 * reads again it gets every event in order from the log (from the store once the in-memory ring
 * has moved past it); one that fell past the retention window gets a `reset` and goes on from
 * there. Over a real HTTP connection, a consumer that never reads leaves the relay serving others.
 */
import { describe, expect, it } from 'vitest'
import { connect } from 'node:net'
import pino from 'pino'
import { FeedLog, type FeedEvent } from '../../../relay/integrations/feed-log.ts'
import { openFeedStream } from '../../../relay/integrations/feed-stream.ts'
import { Journal } from '../../../relay/integrations/journal.ts'
import { MemoryKvStore } from '../../../relay/integrations/store.ts'
import { startRelay } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { HttpWriter, SseConsumer, waitEvents } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function feedLog(maxEvents: number): Promise<{ log: FeedLog; journal: Journal }> {
  const store = new MemoryKvStore()
  const journal = await Journal.open(store, pino({ level: 'silent' }))
  const log = await FeedLog.open(store, journal, { retentionMs: 86_400_000, maxEvents })
  return { log, journal }
}

/** Appends and publishes `n` events of `room` (durable first, as the extension does). */
async function publish(log: FeedLog, journal: Journal, n: number, room = 'doc'): Promise<FeedEvent[]> {
  const events: FeedEvent[] = []
  for (let i = 0; i < n; i++) {
    const event: FeedEvent = { seq: journal.next(), room, stateVector: 'AA==', authors: [], time: new Date().toISOString() }
    journal.add(log.appendOps(event), () => log.publish(event))
    events.push(event)
  }
  await journal.flush()
  return events
}

const decoder = new TextDecoder()
const idsIn = (text: string): string[] => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!)

describe('slow feed consumers', () => {
  it('produce nothing while they do not read, then get every event in order from the log', async () => {
    const { log, journal } = await feedLog(1_000_000)
    // counts the pages the stream reads from the log (instrumented, not replaced)
    let pages = 0
    const read = log.read.bind(log)
    log.read = async (...args: Parameters<FeedLog['read']>) => {
      pages++
      return read(...args)
    }
    const stream = openFeedStream({ log, room: undefined, resume: log.resume(null), heartbeatMs: 60_000, recheck: async () => true, onClose: () => {} })
    const reader = stream.body.getReader()
    const events = await publish(log, journal, 10_000) // more than the in-memory ring holds
    await new Promise((resolve) => setTimeout(resolve, 200))
    // nobody read: one page was taken (the stream's one chunk of read-ahead), no more
    expect(pages).toBeLessThanOrEqual(2)
    let text = ''
    while (idsIn(text).length < events.length) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value)
    }
    expect(idsIn(text)).toEqual(events.map((e) => log.idOf(e.seq)))
    stream.close()
  })

  it('sends a reset to a consumer that fell past the retention window while connected, then goes on', async () => {
    const { log, journal } = await feedLog(50)
    const stream = openFeedStream({ log, room: 'doc', resume: log.resume(null, 'doc'), heartbeatMs: 60_000, recheck: async () => true, onClose: () => {} })
    const reader = stream.body.getReader()
    await reader.read() // the opening comment
    await publish(log, journal, 500)
    await log.prune()
    let text = ''
    while (!text.includes('event: reset')) text += decoder.decode((await reader.read()).value)
    // the reset's id is the position now: what follows is what is published after it
    const later = await publish(log, journal, 3)
    while (!text.includes(log.idOf(later[2]!.seq))) text += decoder.decode((await reader.read()).value)
    // at most the page read ahead before the prune, then the reset, then only what came after it
    const blocks = text.split('\n\n').filter((b) => b.startsWith('id: '))
    const resetAt = blocks.findIndex((b) => b.includes('event: reset'))
    expect(resetAt).toBeGreaterThanOrEqual(0)
    expect(resetAt).toBeLessThanOrEqual(64)
    expect(blocks[resetAt]).toMatch(/^id: .+\nevent: reset\ndata: \{"room":"doc","reason":"past the retention window"\}$/)
    expect(idsIn(blocks.slice(resetAt + 1).join('\n\n'))).toEqual(later.map((e) => log.idOf(e.seq)))
    stream.close()
  })

  it('over HTTP: a consumer that never reads does not hold up the others', async () => {
    const r = await startRelay({ history: false })
    cleanups.push(() => r.stop())
    // a raw connection that asks for the feed with documents and never reads a byte
    const socket = connect(r.port, '127.0.0.1')
    socket.pause()
    cleanups.push(() => socket.destroy())
    socket.write(`GET /api/events?include=json HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
    const reader = await SseConsumer.open(`${r.httpUrl}/api/events`)
    cleanups.push(() => reader.close())
    const writer = new HttpWriter(r.httpUrl, 'big')
    const chunk = 'x'.repeat(20_000)
    for (let i = 0; i < 60; i++) {
      await writer.write(chunk)
      await waitEvents(reader, i + 1)
    }
    await waitFor(() => reader.changed().length === 60, { message: 'the reading consumer got every event' })
    expect(reader.changed().map((e) => e.room)).toEqual(Array(60).fill('big'))
  })
})
