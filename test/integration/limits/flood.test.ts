import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { performance } from 'node:perf_hooks'
import { connectProvider, RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

/** Other clients' p99 delivery latency must stay under this while one connection floods. */
const P99_BOUND_MS = 300
const RATE = 200
const GRACE_MS = 1000
const FLOOD = 20_000

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

/** A writer sends `n` paced updates (every `everyMs`); resolves with the readers' delivery latencies. */
async function pacedLatencies(url: string, room: string, n: number, everyMs: number): Promise<number[]> {
  const writer = await connectProvider(url, room)
  const reader = await connectProvider(url, room)
  cleanups.push(() => writer.destroy(), () => reader.destroy())
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  reader.doc.getArray<number>('paced').observe((event) => {
    const now = performance.now()
    for (const item of event.changes.added) for (const seq of item.content.getContent() as number[]) latencies.push(now - sentAt.get(seq)!)
  })
  const start = performance.now()
  for (let seq = 0; seq < n; seq++) {
    const due = start + seq * everyMs
    while (performance.now() < due) await new Promise((r) => setImmediate(r))
    sentAt.set(seq, performance.now())
    writer.doc.getArray<number>('paced').push([seq])
  }
  await waitFor(() => latencies.length === n, { timeoutMs: 20_000, message: 'paced delivery' })
  return latencies.sort((a, b) => a - b)
}

const p99 = (sorted: number[]): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0

describe('a flood from one connection', () => {
  it(`is held to its budget and cut off; other clients' p99 stays under ${P99_BOUND_MS} ms`, async () => {
    const r = await relay({ maxMessagesPerSecond: RATE, rateLimitGraceMs: GRACE_MS })
    const baseline = p99(await pacedLatencies(r.url, 'calm', 100, 20))
    // The flooder: a bounded loop of valid single-character updates, as fast as the socket takes them.
    const source = new Y.Doc()
    const frames: Uint8Array[] = []
    source.on('update', (u: Uint8Array) => frames.push(encodeSyncUpdate(u)))
    for (let i = 0; i < FLOOD; i++) source.getText('flood').insert(0, 'x')
    const flooder = await RawClient.connect(r.url, 'shared')
    cleanups.push(() => flooder.close())
    const floodStart = performance.now()
    let cutAt = Infinity
    flooder.ws.once('close', () => (cutAt = performance.now()))
    const flooding = (async () => {
      for (let i = 0; i < frames.length && flooder.ws.readyState === flooder.ws.OPEN; i++) {
        flooder.send(frames[i]!)
        if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const during = await pacedLatencies(r.url, 'shared', 150, 20)
    await flooding
    expect(await flooder.waitClosed(10_000)).toBe(4429)
    const cutAfter = cutAt - floodStart
    const applied = r.relay.rooms.peek('shared')?.doc.getText('flood').length ?? 0
    console.log(`flood: baseline p99 ${baseline.toFixed(1)} ms, p99 during flood ${p99(during).toFixed(1)} ms (bound ${P99_BOUND_MS}); flooder cut after ${cutAfter.toFixed(0)} ms with ${applied}/${FLOOD} updates applied`)
    expect(p99(during)).toBeLessThan(P99_BOUND_MS)
    // Held to the budget: the burst plus RATE per second until it was cut (plus what one read had parsed).
    expect(applied).toBeLessThan(RATE + (RATE * cutAfter) / 1000 + 100)
    expect(applied).toBeLessThan(FLOOD)
  })
})
