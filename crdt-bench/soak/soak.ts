/**
 * A bounded soak of one relay (in this process, real LevelDB in a temp dir): `rooms` rooms,
 * each watched by one long-lived observer; `sessions` short connections open and close
 * (`concurrency` at a time), each making a few random edits or sending random bad frames. After
 * the load: every room's stored state must equal what its observer holds, and the relay's heap
 * (after a full GC, rooms unloaded) must come back to its baseline.
 *
 * Used by `npm run bench:soak` and, shortened, by test/integration/limits/soak.test.ts.
 *
 * @module
 */
import * as Y from 'yjs'
import * as prng from 'lib0/prng'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createRelay } from '../../relay/server/server.ts'
import { createLogger } from '../../relay/observability/logger.ts'
import { isSaved, mergeDeleted } from '../../relay/wire/protocol.ts'

/** Settings of a soak run. */
export interface SoakOptions {
  rooms: number
  sessions: number
  concurrency: number
  seed: number
  /** Share of sessions that send bad frames instead of edits (0..1). */
  badShare?: number
  /** Progress lines go here (default: nowhere). */
  log?: (line: string) => void
}

/** What a soak run measured. */
export interface SoakResult {
  seed: number
  sessions: number
  badSessions: number
  edits: number
  seconds: number
  /** Rooms whose stored state differs from their observer's (must be empty). */
  mismatched: string[]
  heapBaselineMiB: number
  heapPeakMiB: number
  heapAfterMiB: number
  /** heapAfter / heapBaseline. */
  heapRatio: number
  roomsLoadedAfter: number
  connectionsAfter: number
}

function fullGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

const heapMiB = (): number => process.memoryUsage().heapUsed / 1024 / 1024

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function provider(url: string, room: string, doc: Y.Doc): WebsocketProvider {
  return new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
}

/** Runs the soak; never throws on a mismatch (the result says), only on a timeout. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {})
  const rng = prng.create(options.seed)
  const gc = fullGc()
  // y-websocket adds a process 'exit' listener per provider (removed on destroy).
  process.setMaxListeners(Math.max(process.getMaxListeners(), options.rooms + options.concurrency + 10))
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-soak-'))
  // Every session comes from 127.0.0.1, which the per-IP limits cover by default (issue 21): the
  // soak exempts loopback explicitly, as it ran before, so it measures rooms and connections, not
  // the per-IP bookkeeping's own window of room names.
  const relay = await createRelay(
    { host: '127.0.0.1', port: 0, data: dataDir, idleMs: 100, static: dataDir, logLevel: 'silent', maxConnectionsPerIp: 100_000, maxRoomsPerMinute: 100_000, perIpExempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] },
    { logger: createLogger('silent') },
  )
  try {
    let edits = 0
    let badSessions = 0
    const badShare = options.badShare ?? 0.1

    /** One round of load on rooms `<prefix>-0..`; resolves with the rooms whose stored state differs from their observer's. */
    const phase = async (prefix: string, rooms: number, sessions: number): Promise<string[]> => {
      const roomName = (i: number): string => `${prefix}-${i}`
      const observers = Array.from({ length: rooms }, (_, i) => {
        const doc = new Y.Doc()
        return { doc, provider: provider(relay.url, roomName(i), doc) }
      })
      await until(() => observers.every((o) => o.provider.synced), 'observers synced')
      const session = async (n: number): Promise<void> => {
        const room = prng.uint32(rng, 0, rooms - 1)
        if (prng.real53(rng) < badShare) {
          badSessions++
          const ws = new WebSocket(`${relay.url}/${roomName(room)}`)
          ws.on('error', () => {})
          await new Promise<void>((resolve) => {
            ws.on('open', () => {
              const frames = prng.uint32(rng, 1, 3)
              for (let f = 0; f < frames; f++) ws.send(prng.uint8Array(rng, prng.uint32(rng, 0, 64)))
              ws.close()
            })
            ws.on('close', () => resolve())
          })
          return
        }
        const doc = new Y.Doc()
        const p = provider(relay.url, roomName(room), doc)
        await until(() => p.synced, `session ${n} sync`)
        const text = doc.getText('t')
        const count = prng.uint32(rng, 1, 5)
        for (let e = 0; e < count; e++) {
          if (text.length > 0 && prng.bool(rng)) {
            const at = prng.uint32(rng, 0, text.length - 1)
            text.delete(at, Math.min(prng.uint32(rng, 1, 4), text.length - at))
          } else {
            text.insert(prng.uint32(rng, 0, text.length), prng.word(rng, 1, 8))
          }
          edits++
        }
        // Leave once the relay has it: the room's observer saw every one of this session's edits,
        // its insertions (state vector) and its deletions (a session may only delete).
        const observer = observers[room]!.doc
        await until(() => {
          const seen = { stateVector: Y.decodeStateVector(Y.encodeStateVector(observer)), deleteSet: mergeDeleted([Y.createDeleteSetFromStructStore(observer.store)]) }
          return isSaved(doc, seen)
        }, `session ${n} delivered`)
        p.destroy()
        doc.destroy()
      }
      let next = 0
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < sessions) {
            const n = next++
            await session(n)
            if (n % 100 === 99) log(`soak: ${prefix} ${n + 1}/${sessions} sessions`)
          }
        }),
      )
      // Stored state vs what the observers hold.
      await relay.rooms.flushAll()
      const mismatched: string[] = []
      for (let i = 0; i < rooms; i++) {
        const stored = new Y.Doc()
        for (const u of await relay.storage.load(roomName(i))) Y.applyUpdate(stored, u)
        const held = observers[i]!.doc
        const same =
          Buffer.from(Y.encodeStateVector(stored)).equals(Buffer.from(Y.encodeStateVector(held))) &&
          stored.getText('t').toString() === held.getText('t').toString()
        if (!same) mismatched.push(roomName(i))
        stored.destroy()
      }
      for (const o of observers) {
        o.provider.destroy()
        o.doc.destroy()
      }
      await until(async () => ((await relay.metrics.connections.get()).values[0]?.value ?? 0) === 0, 'connections closed')
      await until(() => [...relay.rooms.loaded()].length === 0, 'rooms unloaded')
      return mismatched
    }

    // Warm up on other rooms with the same kinds of traffic (code compiled, caches filled), then take the baseline.
    const warmMismatched = await phase('warm', Math.max(2, Math.ceil(options.rooms / 10)), Math.max(20, Math.ceil(options.sessions / 10)))
    gc()
    const heapBaselineMiB = heapMiB()
    let heapPeakMiB = heapBaselineMiB
    const sampler = setInterval(() => (heapPeakMiB = Math.max(heapPeakMiB, heapMiB())), 50)
    const started = Date.now()
    edits = 0
    badSessions = 0
    const mismatched = [...warmMismatched, ...(await phase('soak', options.rooms, options.sessions))]
    const seconds = (Date.now() - started) / 1000
    clearInterval(sampler)
    gc()
    const heapAfterMiB = heapMiB()
    return {
      seed: options.seed,
      sessions: options.sessions,
      badSessions,
      edits,
      seconds,
      mismatched,
      heapBaselineMiB,
      heapPeakMiB,
      heapAfterMiB,
      heapRatio: heapAfterMiB / heapBaselineMiB,
      roomsLoadedAfter: [...relay.rooms.loaded()].length,
      connectionsAfter: (await relay.metrics.connections.get()).values[0]?.value ?? 0,
    }
  } finally {
    await relay.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}
