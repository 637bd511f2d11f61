/**
 * A randomized fault campaign (Jepsen-style): 3–5 relay processes with real LevelDB in a
 * seeded topology, stock y-websocket text clients and tandem CRDT writers on every relay,
 * the seeded {@link FaultScheduler}, then heal everything, wait for convergence, check every
 * live copy, kill -9 every relay and check every data directory on disk.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { freePorts, relayDoc } from '../../test/integration/topology/cluster.ts'
import { RawClient } from '../../test/fixtures/clients.ts'
import { isSaved } from '../../relay/protocol.ts'
import { LevelDbStorage } from '../../relay/storage/leveldb.ts'
import { Rng } from './rng.ts'
import { RelayProcess } from './relay-process.ts'
import { healLink, peerUrls, startLinks, type ChaosTopology, type Link } from './links.ts'
import { ROOM, Writer, type WriterKind } from './writer.ts'
import { FaultScheduler, type FaultEvent, type FaultKind } from './faults.ts'
import { check, type CheckResult, type Copy, type Loss } from './checker.ts'

export interface CampaignOptions {
  seconds: number
  seed: number
  /** Default: 3–5 chosen by seed. */
  relays?: number
  /** Default: chosen by seed. */
  topology?: ChaosTopology
  /** Each writer writes every this many ms (seeded within the range). Default [80, 300]. */
  writeEveryMs?: [number, number]
  /** How long the cluster may take to converge after the last fault. Default 90 s. */
  convergeTimeoutMs?: number
  /** Inject every fault kind at least once (first), then random ones. */
  ensureEach?: boolean
  /** Run the compiled relay (dist/relay/cli.js, built by `npm run build`) instead of tsx. */
  compiled?: boolean
  /** Keep the run directory (logs, data) even when the run passed. */
  keepDir?: boolean
  log?: (line: string) => void
}

export interface CampaignResult {
  ok: boolean
  seed: number
  topology: ChaosTopology
  relays: number
  seconds: number
  faults: Record<FaultKind, number>
  faultsTotal: number
  writes: { issued: number; acked: number; writersLeft: number; leftWithUnacked: number }
  lost: number
  losses: Loss[]
  /** Time from the last fault healed to every copy equal and every write acknowledged. */
  convergeMs: number | null
  live: Omit<CheckResult, 'lost'> | null
  disk: Omit<CheckResult, 'lost'> | null
  problems: string[]
  events: FaultEvent[]
  dir: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A comparable summary of a doc: state vector and content (text, maps; CRDT slices as hex). */
function fingerprint(doc: Y.Doc): string {
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(([a], [b]) => a - b)
  const content: Record<string, unknown> = {}
  for (const name of [...doc.share.keys()].sort()) {
    if (name === 't') content[name] = doc.getText('t').toString()
    else content[name] = Object.entries(doc.getMap(name).toJSON()).sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v])
  }
  return JSON.stringify({ sv, content })
}

async function loadFromDisk(dataDir: string, room: string): Promise<Y.Doc> {
  const storage = await LevelDbStorage.open(dataDir)
  try {
    const updates = await storage.load(room)
    const doc = new Y.Doc()
    Y.transact(doc, () => { for (const u of updates) Y.applyUpdate(doc, u) })
    return doc
  } finally {
    await storage.close()
  }
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? (() => undefined)
  const rng = new Rng(o.seed)
  const n = o.relays ?? rng.int(3, 5)
  const topology = o.topology ?? rng.pick(['mesh', 'star', 'ring'] as const)
  const dir = await mkdtemp(join(tmpdir(), `tandem-chaos-${o.seed}-`))
  const ids = Array.from({ length: n }, (_, i) => `r${i}`)
  const ports = await freePorts(n)
  const secret = `chaos-${o.seed}`
  log(`seed ${o.seed}: ${n} relays, ${topology}, ${o.seconds} s of faults, run dir ${dir}`)
  const links: Link[] = await startLinks(topology, ports, ids)
  const relays = ids.map((id, i) => new RelayProcess({
    id, port: ports[i] as number, dataDir: join(dir, `${id}-data`), faultFile: join(dir, `${id}.fault`), logFile: join(dir, `${id}.log`),
    topology, ...(topology === 'star' ? { hub: 'r0' } : {}), peers: peerUrls(links, i), secret, entry: o.compiled ? 'dist' : 'tsx',
  }))
  const writers: Writer[] = []
  const writerRng = rng.fork()
  const faultRng = rng.fork()
  let nextWriter = 0
  const addWriter = (relay: number, kind: WriterKind): Writer => {
    const w = new Writer(`${kind[0]}${nextWriter++}@${ids[relay]}`, kind, relay, relays[relay]!.url, writerRng.fork())
    writers.push(w)
    return w
  }
  const problems: string[] = []
  let result: CampaignResult | null = null
  try {
    // One at a time: parallel TypeScript startups on a loaded machine are slower than serial ones.
    for (const r of relays) await r.start(180_000)
    for (let i = 0; i < n; i++) for (const kind of ['text', 'crdt'] as const) addWriter(i, kind)
    await until('every client synced', () => writers.every((w) => w.synced), 60_000)

    // Writers write on their own seeded schedule until the faults are over.
    let writing = true
    const [lo, hi] = o.writeEveryMs ?? [80, 300]
    const writeLoop = (async () => {
      const due = new Map<Writer, number>()
      while (writing) {
        const now = Date.now()
        for (const w of writers) {
          if (w.gone) continue
          if ((due.get(w) ?? 0) <= now) {
            w.step()
            due.set(w, now + writerRng.int(lo, hi))
          }
        }
        await sleep(lo / 2)
      }
    })()

    const scheduler = new FaultScheduler(faultRng, {
      relays, links, dir, log,
      writers: () => writers.filter((w) => !w.gone),
      replaceWriter: (gone) => void addWriter(gone.relay, gone.kind),
    }, { ensureEach: o.ensureEach ?? true })
    const t0 = Date.now()
    await scheduler.run(o.seconds * 1000)
    problems.push(...scheduler.problems)
    // Heal anything left (a restart that failed) and stop writing.
    for (const link of links) healLink(link)
    await Promise.all(relays.map((r) => r.setDiskFailing(false)))
    for (const r of relays) if (!r.running) await r.start()
    for (const w of writers) w.goOnline()
    const healedAt = Math.max(scheduler.lastHealAt, Date.now())
    writing = false
    await writeLoop
    log(`faults over after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(scheduler.counts)}; waiting for convergence`)

    // Converged: every live copy equal and every connected writer's writes acknowledged.
    const alive = (): Writer[] => writers.filter((w) => !w.gone)
    let convergeMs: number | null = null
    let lastState = ''
    try {
      await until('convergence', async () => {
        if (!alive().every((w) => w.allAcked && w.synced)) {
          lastState = `unacknowledged: ${alive().filter((w) => !w.allAcked).map((w) => `${w.name} ${w.acked}/${w.clock}`).join(', ')}`
          return false
        }
        for (const kind of ['text', 'crdt'] as const) {
          const prints = new Set<string>()
          for (const r of relays) prints.add(fingerprint(await relayDoc(r.httpUrl, ROOM[kind])))
          for (const w of alive()) if (w.kind === kind) prints.add(fingerprint(w.doc))
          if (prints.size > 1) {
            lastState = `${kind}: ${prints.size} different copies`
            return false
          }
        }
        return true
      }, o.convergeTimeoutMs ?? 90_000)
      convergeMs = Date.now() - healedAt
      log(`converged ${convergeMs} ms after the last fault`)
    } catch (error) {
      problems.push(`${(error as Error).message} (${lastState})`)
    }

    // Live check: every relay (over HTTP) and every connected client.
    const liveCopies: Copy[] = []
    for (const r of relays) liveCopies.push({ where: `${r.spec.id} (live)`, text: await relayDoc(r.httpUrl, ROOM.text), crdt: await relayDoc(r.httpUrl, ROOM.crdt) })
    const byRelay = new Map<number, Partial<Record<WriterKind, Writer>>>()
    for (const w of alive()) byRelay.set(w.relay, { ...byRelay.get(w.relay), [w.kind]: w })
    for (const [relay, pair] of byRelay) {
      if (pair.text && pair.crdt) liveCopies.push({ where: `clients of ${ids[relay]}`, text: pair.text.doc, crdt: pair.crdt.doc })
    }
    const live = check(writers, liveCopies)

    // Durable check: wait until each relay reports the converged state saved, kill -9 all, read the disks.
    if (convergeMs !== null) {
      for (const r of relays) {
        for (const kind of ['text', 'crdt'] as const) {
          const raw = await RawClient.connect(r.url, ROOM[kind])
          raw.subscribeSaved()
          try {
            await until(`${r.spec.id} saved ${kind}`, () => raw.savedAck !== null && isSaved(liveCopies[0]![kind], raw.savedAck), 30_000)
          } catch (error) {
            problems.push((error as Error).message)
          } finally {
            raw.close()
          }
        }
      }
    }
    for (const w of writers) w.destroy()
    await Promise.all(relays.map((r) => r.kill9()))
    const diskCopies: Copy[] = []
    for (const r of relays) {
      diskCopies.push({ where: `${r.spec.id} (disk after kill -9)`, text: await loadFromDisk(r.spec.dataDir, ROOM.text), crdt: await loadFromDisk(r.spec.dataDir, ROOM.crdt) })
    }
    const disk = check(writers, diskCopies)
    const losses = [...live.lost, ...disk.lost]
    for (const c of [live, disk]) {
      problems.push(...c.problems)
      if (!c.equal) problems.push(...c.differences.slice(0, 5))
    }
    const strip = ({ lost: _lost, ...rest }: CheckResult): Omit<CheckResult, 'lost'> => rest
    const faultsTotal = Object.values(scheduler.counts).reduce((a, b) => a + b, 0)
    result = {
      ok: losses.length === 0 && problems.length === 0 && convergeMs !== null,
      seed: o.seed, topology, relays: n, seconds: o.seconds,
      faults: scheduler.counts, faultsTotal,
      writes: {
        issued: live.ops, acked: live.acked,
        writersLeft: scheduler.counts['client-leaves'],
        leftWithUnacked: writers.filter((w) => w.gone && !w.allAcked).length,
      },
      lost: losses.length, losses: losses.slice(0, 20), convergeMs,
      live: strip(live), disk: strip(disk), problems, events: scheduler.events, dir,
    }
    return result
  } finally {
    for (const w of writers) w.destroy()
    await Promise.all(relays.map((r) => r.dispose()))
    await Promise.all(links.map((l) => l.proxy.close()))
    if (result?.ok && !o.keepDir) await rm(dir, { recursive: true, force: true })
    else log(`run directory kept: ${dir}`)
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}
