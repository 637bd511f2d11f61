/**
 * `npm run bench:topology` — the cost of each relay topology, on loopback, in-process relays
 * (real LevelDB in temp dirs), under the same bounded client load.
 *
 * For star, mesh and ring of 3 and 5 relays, and the same relays sharing rooms through one
 * Redis (`redis`: a real redis-server started here, no peer links), one stock y-websocket client per relay writes
 * paced map entries (its wall-clock time as the value). Measured:
 *   - replication lag: time from a client's write to it being applied at every other relay
 *     (p50/p99 over all (write, relay) pairs);
 *   - write amplification: bytes on relay-to-relay links per client update (updates, acks
 *     and digests included), and peer messages carrying updates per client update; for
 *     Redis: payload bytes written to and read from Redis, and stream entries per client update;
 *   - CPU per delivered update (a client update applied at one other relay): the bench
 *     process's CPU (relays and their clients, the same for every row) and, for Redis, the
 *     redis-server process's CPU;
 *   - time to converge after a restart: one relay (a spoke in star) is stopped, the others
 *     keep writing, it is restarted on the same port and data dir; time from restart until
 *     every relay holds every write.
 *
 * Flags: --quick (smaller load), --json PATH (default crdt-bench/results/topology.json),
 * --only mesh,redis (a subset of star,mesh,ring,redis).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import * as Y from 'yjs'
import { BenchCluster, type BenchMode } from './bench-cluster.ts'
import { measureSealCost } from './seal-cost.ts'

const quick = process.argv.includes('--quick')
const jsonIdx = process.argv.indexOf('--json')
const jsonPath = (jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined) ?? 'crdt-bench/results/topology.json'
const load = quick
  ? { updatesPerClient: 60, intervalMs: 10, outageUpdatesPerClient: 30 }
  : { updatesPerClient: 200, intervalMs: 10, outageUpdatesPerClient: 100 }
const ROOM = 'bench'
const onlyIdx = process.argv.indexOf('--only')
const only = onlyIdx >= 0 ? new Set((process.argv[onlyIdx + 1] ?? '').split(',')) : null

interface Row {
  topology: BenchMode
  relays: number
  clientUpdates: number
  lagP50Ms: number
  lagP99Ms: number
  peerBytesPerUpdate: number
  peerUpdateMessagesPerUpdate: number
  convergeAfterRestartMs: number
  /** Bench process CPU (relays + clients) per delivered update, µs. */
  cpuUsPerDelivered: number
  /** redis-server CPU per client update, µs (Redis row only). */
  redisCpuUsPerUpdate: number | null
}

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function writeRound(cluster: BenchCluster, writers: number[], count: number, tag: string): Promise<string[]> {
  const keys: string[] = []
  for (let k = 0; k < count; k++) {
    for (const i of writers) {
      const key = `${tag}-${i}-${k}`
      cluster.clientDoc(i).getMap('m').set(key, performance.timeOrigin + performance.now())
      keys.push(key)
    }
    await new Promise((r) => setTimeout(r, load.intervalMs))
  }
  return keys
}

async function measure(topology: BenchMode, n: number): Promise<Row> {
  const cluster = await BenchCluster.start(topology, n, ROOM)
  try {
    // Lag: every relay's room doc records when each other client's key arrives.
    const lags: number[] = []
    const unobserve = cluster.relayDocs().map((doc, r) => {
      const map = doc.getMap('m')
      const fn = (e: Y.YMapEvent<unknown>): void => {
        const now = performance.timeOrigin + performance.now()
        for (const key of e.keysChanged) {
          const writer = Number(key.split('-')[1])
          if (key.startsWith('live-') && writer !== r) lags.push(now - (map.get(key) as number))
        }
      }
      map.observe(fn)
      return () => map.unobserve(fn)
    })
    const before = await cluster.peerTotals()
    const cpu0 = process.cpuUsage()
    const redisCpu0 = (await cluster.redis?.cpuSeconds()) ?? NaN
    const writers = Array.from({ length: n }, (_, i) => i)
    const keys = await writeRound(cluster, writers, load.updatesPerClient, 'live')
    await until(() => cluster.relayDocs().every((d) => keys.every((k) => d.getMap('m').has(k))), 60_000, `${topology}/${n} convergence`)
    const cpu = process.cpuUsage(cpu0)
    const redisCpu = ((await cluster.redis?.cpuSeconds()) ?? NaN) - redisCpu0
    await cluster.settleAcks()
    const after = await cluster.peerTotals()
    for (const u of unobserve) u()
    lags.sort((a, b) => a - b)

    // Restart: relay 1 (a spoke in star; in a ring its outage cuts the flow).
    const victim = 1
    await cluster.stopRelay(victim)
    const others = writers.filter((i) => i !== victim)
    const outageKeys = await writeRound(cluster, others, load.outageUpdatesPerClient, 'outage')
    const t0 = performance.now()
    await cluster.restartRelay(victim)
    const all = [...keys, ...outageKeys]
    await until(() => cluster.relayDocs().every((d) => all.every((k) => d.getMap('m').has(k))), 60_000, `${topology}/${n} catch-up`)
    const convergeAfterRestartMs = performance.now() - t0

    const clientUpdates = keys.length
    return {
      topology, relays: n, clientUpdates,
      lagP50Ms: pct(lags, 50), lagP99Ms: pct(lags, 99),
      peerBytesPerUpdate: (after.bytes - before.bytes) / clientUpdates,
      peerUpdateMessagesPerUpdate: (after.updates - before.updates) / clientUpdates,
      convergeAfterRestartMs,
      cpuUsPerDelivered: (cpu.user + cpu.system) / (clientUpdates * (n - 1)),
      redisCpuUsPerUpdate: cluster.redis ? (redisCpu * 1e6) / clientUpdates : null,
    }
  } finally {
    await cluster.close()
  }
}

const rows: Row[] = []
for (const n of [3, 5]) {
  for (const topology of ['star', 'mesh', 'ring', 'redis'] as const) {
    if (only && !only.has(topology)) continue
    process.stderr.write(`bench:topology ${topology} of ${n}...\n`)
    rows.push(await measure(topology, n))
  }
}

process.stderr.write('bench:topology sealing cost...\n')
const seal = measureSealCost(quick ? 5_000 : 20_000)

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-')
const lines = [
  `bench:topology — ${load.updatesPerClient} paced updates per client (one client per relay, every ${load.intervalMs} ms), loopback, LevelDB`,
  '',
  '| topology | relays | lag p50 (ms) | lag p99 (ms) | peer/Redis bytes / update | peer msgs / Redis entries per update | converge after restart (ms) | bench CPU / delivered update (µs) | redis-server CPU / update (µs) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.topology} | ${r.relays} | ${fmt(r.lagP50Ms, 2)} | ${fmt(r.lagP99Ms, 2)} | ${fmt(r.peerBytesPerUpdate, 0)} | ${fmt(r.peerUpdateMessagesPerUpdate, 2)} | ${fmt(r.convergeAfterRestartMs, 0)} | ${fmt(r.cpuUsPerDelivered, 0)} | ${r.redisCpuUsPerUpdate === null ? '-' : fmt(r.redisCpuUsPerUpdate, 0)} |`),
  '',
  'Redis rows: bytes are Yjs payload bytes written to Redis plus read from it (updates, catch-up answers, asks); entries are stream entries written per client update.',
  ...ratioLines(),
  '',
  `Peer frame sealing (AES-256-GCM per link, ${seal.frames} update frames of ${fmt(seal.meanFrameBytes, 0)} bytes, medians of 7 rounds): seal + open ${fmt(seal.sealOpenUs, 2)} µs per forwarded update per link (encoding the frame: ${fmt(seal.encodeUs, 2)} µs); 16 bytes of tag per frame.`,
  ...rows.filter((r) => r.topology === 'mesh').map((r) => `  mesh of ${r.relays}: sealing is ${fmt((100 * seal.sealOpenUs) / r.cpuUsPerDelivered, 1)} % of the bench CPU per delivered update (${fmt(r.cpuUsPerDelivered, 0)} µs)`),
]

/** Redis vs mesh of the same size: the ratios the README quotes. */
function ratioLines(): string[] {
  const out: string[] = []
  for (const n of [3, 5]) {
    const redis = rows.find((r) => r.topology === 'redis' && r.relays === n)
    const mesh = rows.find((r) => r.topology === 'mesh' && r.relays === n)
    if (!redis || !mesh) continue
    out.push(`redis/mesh at ${n} relays: lag p50 ×${fmt(redis.lagP50Ms / mesh.lagP50Ms, 2)}, lag p99 ×${fmt(redis.lagP99Ms / mesh.lagP99Ms, 2)}, bytes/update ×${fmt(redis.peerBytesPerUpdate / mesh.peerBytesPerUpdate, 2)}, bench CPU/delivered ×${fmt(redis.cpuUsPerDelivered / mesh.cpuUsPerDelivered, 2)}`)
  }
  return out
}
process.stdout.write(lines.join('\n') + '\n')
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({
  command: `npm run bench:topology${quick ? ' -- --quick' : ''}`,
  date: new Date().toISOString(),
  node: process.version,
  load,
  rows,
  sealing: seal,
}, null, 2) + '\n')
process.stdout.write(`\nwrote ${jsonPath}\n`)
process.exit(0)
