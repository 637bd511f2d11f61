/**
 * A randomized fault campaign (Jepsen-style): 3–5 relay processes with real LevelDB in a
 * seeded topology (peer links) or sharing rooms through one real redis-server (Redis mode,
 * each relay's link to it through its own TCP proxy), stock y-websocket text clients and tandem CRDT writers on every relay,
 * the seeded {@link FaultScheduler}, then heal everything, wait for convergence, check every
 * live copy, kill -9 every relay and check every data directory on disk.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { relayDoc } from '../../test/integration/topology/cluster.ts'
import { Rng } from './rng.ts'
import { RelayProcess, relayPorts } from './relay-process.ts'
import { healLink, peerUrls, startLinks, type ChaosTopology, type Link } from './links.ts'
import { ROOM, Writer, type WriterKind } from './writer.ts'
import { FaultScheduler, faultKindsFor, type FaultEvent, type FaultKind, type RedisLink } from './faults.ts'
import { RedisServerProcess, type RedisPersistence } from './redis-server.ts'
import { startTcpProxy } from './tcp-proxy.ts'
import { check, type CheckResult, type Copy, type Loss } from './checker.ts'
import { readDisks, until, waitConverged, waitSaved } from './converge.ts'

export interface CampaignOptions {
  seconds: number
  seed: number
  /** Default: 3–5 chosen by seed. */
  relays?: number
  /** Default: chosen by seed. Implies peer links (not Redis). */
  topology?: ChaosTopology
  /**
   * Share rooms through one redis-server instead of peer links. Default: by seed when no
   * `topology` is given — seeds with `seed % 4 === 3` run in Redis mode ({@link redisBySeed}).
   */
  redis?: boolean
  /** Redis mode: how redis-server persists (default: chosen by seed). */
  persistence?: RedisPersistence
  /** Each writer writes every this many ms (seeded within the range). Default [80, 300]. */
  writeEveryMs?: [number, number]
  /** How long the cluster may take to converge after the last fault. Default 90 s. */
  convergeTimeoutMs?: number
  /** Inject every fault kind at least once (first), then random ones. */
  ensureEach?: boolean
  /** Only these fault kinds (default: every kind of the mode, {@link faultKindsFor}). */
  kinds?: readonly FaultKind[]
  /** Negative control: `disk-fail` makes a disk that acknowledges and stores nothing. */
  lyingDisk?: boolean
  /** Run the compiled relay (dist/relay/cli.js, built by `npm run build`) instead of tsx. */
  compiled?: boolean
  /** Keep the run directory (logs, data) even when the run passed. */
  keepDir?: boolean
  log?: (line: string) => void
}

export interface CampaignResult {
  ok: boolean
  seed: number
  /** `links` (peer links in `topology`) or `redis` (one redis-server, no peer links). */
  mode: 'links' | 'redis'
  topology: ChaosTopology | 'redis'
  /** Redis mode: how redis-server persisted (its RDB or AOF is what `redis-old-copy` copies). */
  persistence?: RedisPersistence
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

/** Without `--redis` or `--topology`, a seed runs in Redis mode when `seed % 4 === 3` (3, 7, 11, …). */
export const redisBySeed = (seed: number): boolean => seed % 4 === 3

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const log = o.log ?? (() => undefined)
  const rng = new Rng(o.seed)
  const n = o.relays ?? rng.int(3, 5)
  // Drawn in every mode, so a peer-link seed's choices are the same as before Redis mode existed.
  const topology = o.topology ?? rng.pick(['mesh', 'star', 'ring'] as const)
  const mode = (o.redis ?? (o.topology === undefined && redisBySeed(o.seed))) ? 'redis' : 'links'
  const persistence = mode === 'redis' ? o.persistence ?? rng.pick(['rdb', 'aof'] as const) : undefined
  const dir = await mkdtemp(join(tmpdir(), `tandem-chaos-${o.seed}-`))
  const ids = Array.from({ length: n }, (_, i) => `r${i}`)
  // One more port below the ephemeral range for redis-server (restarted on the same port).
  const ports = await relayPorts(n + 1, Math.random)
  const secret = `chaos-${o.seed}`
  log(`seed ${o.seed}: ${n} relays, ${mode === 'redis' ? `one Redis (${persistence})` : topology}, ${o.seconds} s of faults, run dir ${dir}`)
  const links: Link[] = mode === 'links' ? await startLinks(topology, ports.slice(0, n), ids) : []
  const redis = mode === 'redis'
    ? new RedisServerProcess({ port: ports[n] as number, dir: join(dir, 'redis'), persistence: persistence!, logFile: join(dir, 'redis.log') })
    : undefined
  const redisLinks: RedisLink[] = []
  if (redis) for (const id of ids) redisLinks.push({ name: `${id}->redis`, proxy: await startTcpProxy(redis.spec.port) })
  const relays = ids.map((id, i) => new RelayProcess({
    id, port: ports[i] as number, dataDir: join(dir, `${id}-data`), faultFile: join(dir, `${id}.fault`), logFile: join(dir, `${id}.log`),
    topology, ...(topology === 'star' ? { hub: 'r0' } : {}), peers: peerUrls(links, i), secret, entry: o.compiled ? 'dist' : 'tsx',
    ...(redis ? { redis: redisLinks[i]!.proxy.url } : {}),
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
  // A relay that exits by itself is a finding (the run fails); like a supervisor, restart it so the campaign goes on.
  for (const r of relays) {
    r.onCrash = (crash) => {
      const line = `relay ${r.spec.id} exited by itself (code ${crash.code}, signal ${crash.signal}) at ${crash.at}, start #${crash.start}: see ${r.spec.logFile}`
      problems.push(line)
      log(`! ${line}; restarting it`)
      r.start().catch((error: unknown) => {
        if (!r.running) problems.push(`relay ${r.spec.id} did not restart after exiting by itself: ${(error as Error).message}`)
      })
    }
  }
  if (redis) redis.onCrash = (code, signal) => void problems.push(`redis-server exited by itself (code ${code}, signal ${signal}): see ${redis.spec.logFile}`)
  let result: CampaignResult | null = null
  try {
    await redis?.start()
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
      relays, links, dir, log, redisLinks, ...(redis ? { redis } : {}),
      writers: () => writers.filter((w) => !w.gone),
      replaceWriter: (gone) => void addWriter(gone.relay, gone.kind),
    }, { ensureEach: o.ensureEach ?? true, kinds: o.kinds ?? faultKindsFor(mode), diskMode: o.lyingDisk ? 'lose' : 'fail' })
    const t0 = Date.now()
    await scheduler.run(o.seconds * 1000)
    problems.push(...scheduler.problems)
    // Heal anything left (a restart that failed) and stop writing.
    for (const link of links) healLink(link)
    for (const { proxy } of redisLinks) {
      proxy.setMode('pass')
      proxy.setDelay(0)
    }
    if (redis && !redis.running) await redis.start()
    await redis?.setRefusingWrites(false)
    await Promise.all(relays.map((r) => r.setDiskFailing(false)))
    for (const r of relays) if (!r.running) await r.start()
    for (const w of writers) w.goOnline()
    const healedAt = Date.now()
    writing = false
    await writeLoop
    log(`faults over after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(scheduler.counts)}; waiting for convergence`)

    // Converged: every live copy equal and every connected writer's writes acknowledged.
    const alive = (): Writer[] => writers.filter((w) => !w.gone)
    let convergeMs: number | null = null
    try {
      await waitConverged(relays, alive, o.convergeTimeoutMs ?? 90_000)
      convergeMs = Date.now() - healedAt
      log(`converged ${convergeMs} ms after the last fault`)
    } catch (error) {
      problems.push((error as Error).message)
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

    // Durable check: each relay reports the converged state saved, then kill -9 all and read the disks.
    if (convergeMs !== null) problems.push(...await waitSaved(relays, liveCopies[0]!))
    for (const w of writers) w.destroy()
    await Promise.all(relays.map((r) => r.kill9()))
    const diskCopies = await readDisks(relays)
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
      seed: o.seed, mode, topology: mode === 'redis' ? 'redis' : topology, ...(persistence ? { persistence } : {}), relays: n, seconds: o.seconds,
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
    await Promise.all(redisLinks.map((l) => l.proxy.close()))
    await redis?.dispose()
    if (result?.ok && !o.keepDir) await rm(dir, { recursive: true, force: true })
    else log(`run directory kept: ${dir}`)
  }
}
