/**
 * The idle-connections memory point of `bench:relay`: a fresh server, then `rooms` rooms with
 * one synced connection each (memory per loaded room, connection included), then connections
 * added to those rooms up to `connections` in all (memory per idle connection). Memory is the
 * server's own RSS, read after the server had a moment to settle.
 *
 * @module
 */
import type { Dialect } from './bench-client.ts'
import { connectMany } from './load.ts'
import type { ServerProcess } from './process.ts'

/** What the idle point measured. */
export interface IdleResult {
  connections: number
  rooms: number
  baselineMiB: number
  /** RSS with `rooms` rooms of one connection each, minus the baseline, per room (KiB). */
  kibPerLoadedRoom: number
  /** RSS added by the remaining connections, per connection (KiB). */
  kibPerIdleConnection: number
  totalMiB: number
}

/** RSS once it stopped moving (a few reads 200 ms apart), MiB. */
async function settledRss(server: ServerProcess): Promise<number> {
  let last = server.rssMiB()
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 200)) // sampling memory over time, not synchronising
    const now = server.rssMiB()
    if (Math.abs(now - last) < 0.25) return now
    last = now
  }
  return last
}

/** Runs the idle point against a freshly started server. */
export async function runIdle(url: string, dialect: Dialect, server: ServerProcess, connections: number, rooms: number): Promise<IdleResult> {
  const names = Array.from({ length: rooms }, (_, i) => `idle-${i}`)
  const warm = await connectMany(url, dialect, ['warm-up'], 2)
  for (const c of warm) c.close()
  const baselineMiB = await settledRss(server)
  const first = await connectMany(url, dialect, names, 1)
  const withRooms = await settledRss(server)
  const perRoom = Math.ceil((connections - rooms) / rooms)
  const rest = await connectMany(url, dialect, names, perRoom)
  const total = await settledRss(server)
  const added = rest.length
  for (const c of [...first, ...rest]) c.close()
  return {
    connections: first.length + added,
    rooms,
    baselineMiB,
    kibPerLoadedRoom: ((withRooms - baselineMiB) * 1024) / rooms,
    kibPerIdleConnection: ((total - withRooms) * 1024) / added,
    totalMiB: total,
  }
}
