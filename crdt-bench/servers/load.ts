/**
 * One load point of `bench:relay`: R rooms x C clients, W writers per room each typing one
 * character into a Y.Text at a fixed rate; every other client of the room must receive every
 * update (with `cursors`, each keystroke is followed by the writer's cursor as an awareness
 * update, which the server forwards too; deliveries count document updates only). Measured: server CPU per delivered update (from `/proc/<pid>/stat`), fan-out latency
 * (writer's local change → each receiver applied it), lost updates, the server's peak RSS.
 *
 * Latency needs no payload: each writer has a fixed client id, its n-th character has clock n,
 * so a receiver learns which characters just arrived from the writer's clock in its doc.
 *
 * @module
 */
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { BenchClient, type Dialect } from './bench-client.ts'
import type { ServerProcess } from './process.ts'
import { mulberry32 } from '../../scripts/chaos/rng.ts'

/** A load point. */
export interface LoadPoint {
  name: string
  rooms: number
  clientsPerRoom: number
  writersPerRoom: number
  /** Updates per second per writer. */
  rateHz: number
  /** Each keystroke is followed by the writer's cursor as an awareness update (what an editor sends). */
  cursors?: boolean
}

/** What one load point measured on one server. */
export interface LoadResult {
  point: string
  writes: number
  deliveries: number
  lost: number
  cpuMicrosPerDelivery: number
  /** Of which the server's main thread (its event loop); the rest ran on its other threads. */
  eventLoopCpuMicrosPerDelivery: number
  /** Write system calls of the server per delivery (below 1: frames to one client coalesced). */
  writeSyscallsPerDelivery: number
  p50Ms: number
  p99Ms: number
  peakRssMiB: number
  seconds: number
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Resolves when `check()` holds or `ms` passed (then resolves false). */
async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}

/** Opens `n` clients to `room`, in batches, and waits until all are synced. */
export async function connectMany(url: string, dialect: Dialect, rooms: string[], perRoom: number, batch = 100): Promise<BenchClient[]> {
  const clients: BenchClient[] = []
  const wanted = rooms.flatMap((room) => Array.from({ length: perRoom }, () => room))
  for (let i = 0; i < wanted.length; i += batch) {
    const opened = wanted.slice(i, i + batch).map((room) => new BenchClient(url, room, dialect))
    await Promise.all(opened.map((c) => c.synced))
    clients.push(...opened)
  }
  return clients
}

/** Runs `point` against the server at `url` for `seconds` of writing. */
export async function runLoad(url: string, dialect: Dialect, server: ServerProcess, point: LoadPoint, seconds: number, seed: number): Promise<LoadResult> {
  const random = mulberry32(seed)
  const roomNames = Array.from({ length: point.rooms }, (_, i) => `${point.name}-${i}`)
  const clients = await connectMany(url, dialect, roomNames, point.clientsPerRoom)
  const latencies: number[] = []
  let deliveries = 0
  let writes = 0
  interface Writer { client: BenchClient; id: number; sentAt: number[]; next: number; interval: number }
  const writers: Writer[] = []
  let nextId = 1_000_000 + seed * 1000
  for (let r = 0; r < point.rooms; r++) {
    const members = clients.slice(r * point.clientsPerRoom, (r + 1) * point.clientsPerRoom)
    const roomWriters: Writer[] = members.slice(0, point.writersPerRoom).map((client) => {
      client.doc.clientID = nextId++
      const interval = 1000 / point.rateHz
      return { client, id: client.doc.clientID, sentAt: [], next: 0, interval }
    })
    writers.push(...roomWriters)
    for (const receiver of members) {
      const seen = new Map<number, number>(roomWriters.map((w) => [w.id, 0]))
      receiver.doc.on('afterTransaction', (tr: Y.Transaction) => {
        if (tr.local) return
        const now = performance.now()
        for (const w of roomWriters) {
          if (w.client === receiver) continue
          const clock = Y.getState(receiver.doc.store, w.id)
          for (let c = seen.get(w.id)!; c < clock; c++) {
            latencies.push(now - w.sentAt[c]!)
            deliveries++
          }
          seen.set(w.id, clock)
        }
      })
    }
  }
  const start = performance.now()
  for (const w of writers) w.next = start + random() * w.interval // spread the writers' phases
  const cpu0 = server.cpuSeconds()
  const mainCpu0 = server.mainThreadCpuSeconds()
  const syscalls0 = server.writeSyscalls()
  const end = start + seconds * 1000
  while (performance.now() < end) {
    const now = performance.now()
    for (const w of writers) {
      if (w.next > now) continue
      w.next += w.interval
      const text = w.client.doc.getText('t')
      w.sentAt.push(performance.now())
      const at = Math.floor(random() * (text.length + 1))
      text.insert(at, String.fromCharCode(97 + Math.floor(random() * 26)))
      if (point.cursors) w.client.sendCursor(at + 1)
      writes++
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  const expected = writes * (point.clientsPerRoom - 1)
  await waitUntil(() => deliveries >= expected, 15_000)
  const cpu = server.cpuSeconds() - cpu0
  const mainCpu = server.mainThreadCpuSeconds() - mainCpu0
  const syscalls = server.writeSyscalls() - syscalls0
  const elapsed = (performance.now() - start) / 1000
  for (const c of clients) c.close()
  const sorted = Float64Array.from(latencies).sort()
  return {
    point: point.name,
    writes,
    deliveries,
    lost: expected - deliveries,
    cpuMicrosPerDelivery: deliveries > 0 ? (cpu * 1e6) / deliveries : NaN,
    eventLoopCpuMicrosPerDelivery: deliveries > 0 ? (mainCpu * 1e6) / deliveries : NaN,
    writeSyscallsPerDelivery: deliveries > 0 ? syscalls / deliveries : NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    peakRssMiB: server.peakRssMiB(),
    seconds: elapsed,
  }
}
