/**
 * `npm run bench:topology` — the cost of each relay topology, on loopback, in-process relays
 * (real LevelDB in temp dirs), under the same bounded client load.
 *
 * For star, mesh and ring of 3 and 5 relays, one stock y-websocket client per relay writes
 * paced map entries (its wall-clock time as the value). Measured:
 *   - replication lag: time from a client's write to it being applied at every other relay
 *     (p50/p99 over all (write, relay) pairs);
 *   - write amplification: bytes on relay-to-relay links per client update (updates, acks
 *     and digests included), and peer messages carrying updates per client update;
 *   - time to converge after a restart: one relay (a spoke in star) is stopped, the others
 *     keep writing, it is restarted on the same port and data dir; time from restart until
 *     every relay holds every write.
 *
 * Flags: --quick (smaller load), --json PATH (default crdt-bench/results/topology.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import * as Y from 'yjs'
import { BenchCluster } from './bench-cluster.ts'
import type { Topology } from '../../relay/topology/index.ts'

const quick = process.argv.includes('--quick')
const jsonIdx = process.argv.indexOf('--json')
const jsonPath = (jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined) ?? 'crdt-bench/results/topology.json'
const load = quick
  ? { updatesPerClient: 60, intervalMs: 10, outageUpdatesPerClient: 30 }
  : { updatesPerClient: 200, intervalMs: 10, outageUpdatesPerClient: 100 }
const ROOM = 'bench'

interface Row {
  topology: Topology
  relays: number
  clientUpdates: number
  lagP50Ms: number
  lagP99Ms: number
  peerBytesPerUpdate: number
  peerUpdateMessagesPerUpdate: number
  convergeAfterRestartMs: number
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

async function measure(topology: Topology, n: number): Promise<Row> {
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
    const writers = Array.from({ length: n }, (_, i) => i)
    const keys = await writeRound(cluster, writers, load.updatesPerClient, 'live')
    await until(() => cluster.relayDocs().every((d) => keys.every((k) => d.getMap('m').has(k))), 60_000, `${topology}/${n} convergence`)
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
    }
  } finally {
    await cluster.close()
  }
}

const rows: Row[] = []
for (const n of [3, 5]) {
  for (const topology of ['star', 'mesh', 'ring'] as const) {
    process.stderr.write(`bench:topology ${topology} of ${n}...\n`)
    rows.push(await measure(topology, n))
  }
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-')
const lines = [
  `bench:topology — ${load.updatesPerClient} paced updates per client (one client per relay, every ${load.intervalMs} ms), loopback, LevelDB`,
  '',
  '| topology | relays | lag p50 (ms) | lag p99 (ms) | peer bytes / update | peer update msgs / update | converge after restart (ms) |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.topology} | ${r.relays} | ${fmt(r.lagP50Ms, 2)} | ${fmt(r.lagP99Ms, 2)} | ${fmt(r.peerBytesPerUpdate, 0)} | ${fmt(r.peerUpdateMessagesPerUpdate, 2)} | ${fmt(r.convergeAfterRestartMs, 0)} |`),
]
process.stdout.write(lines.join('\n') + '\n')
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({
  command: `npm run bench:topology${quick ? ' -- --quick' : ''}`,
  date: new Date().toISOString(),
  node: process.version,
  load,
  rows,
}, null, 2) + '\n')
process.stdout.write(`\nwrote ${jsonPath}\n`)
process.exit(0)
