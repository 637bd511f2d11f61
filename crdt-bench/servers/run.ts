/**
 * `npm run bench:relay` — tandem's relay against the servers people use today, in one run,
 * on loopback, under the same load, as ratios.
 *
 * Each server runs in its own child process (so its memory is its own); the load generator
 * runs here. Scenarios:
 *   - fan-out:  one room, R readers + 1 writer; the writer sends paced updates; latency is the
 *               time from the writer's local change to every reader having applied it.
 *   - throughput: many rooms, several writers each; every client writes as fast as it can;
 *               throughput is updates applied by all readers per second.
 *   - catch-up: a room with a long history; new clients connect; time until each is synced.
 *
 * Flags: --quick (smaller load), --json PATH (default crdt-bench/results/relay.json),
 *        --only NAME[,NAME] (servers whose name starts with one of these).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { BenchClient, type Dialect } from './bench-client.ts'

interface Target {
  name: string
  dialect: Dialect
  command: (port: number, dataDir: string) => string[]
}

const TSX = 'node_modules/.bin/tsx'
const targets: Target[] = [
  { name: 'tandem (LevelDB)', dialect: 'y-websocket', command: (p, d) => [TSX, 'relay/cli.ts', '--port', String(p), '--data', d, '--log-level', 'warn'] },
  { name: 'tandem (memory)', dialect: 'y-websocket', command: (p) => [TSX, 'relay/cli.ts', '--port', String(p), '--storage', 'memory', '--log-level', 'warn'] },
  { name: 'y-websocket 1.5.4', dialect: 'y-websocket', command: (p) => [TSX, 'crdt-bench/servers/peer-server.ts', 'classic', String(p)] },
  { name: 'hocuspocus 3', dialect: 'hocuspocus', command: (p) => [TSX, 'crdt-bench/servers/peer-server.ts', 'hocuspocus', String(p)] },
]

const quick = process.argv.includes('--quick')
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay.json'
const load = quick
  ? { fanoutReaders: 20, fanoutUpdates: 300, rateHz: 300, rooms: 5, clientsPerRoom: 4, updatesPerClient: 100, historyUpdates: 2000, joiners: 10 }
  : { fanoutReaders: 50, fanoutUpdates: 1500, rateHz: 500, rooms: 20, clientsPerRoom: 5, updatesPerClient: 300, historyUpdates: 20000, joiners: 20 }

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag)
  return i >= 0 ? process.argv[i + 1] : undefined
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

async function waitForHttp(port: number, child: ChildProcess, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    try {
      await fetch(`http://127.0.0.1:${port}/`)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100)) // polling a port that is not yet open
    }
  }
  throw new Error(`server on ${port} did not answer within ${deadlineMs} ms`)
}

/** Resident memory of a process and its descendants (tsx runs the server in a child node). */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  let children: number[] = []
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch { /* process gone or no children file */ }
  return kb / 1024 + children.reduce((sum, c) => sum + rssMiB(c), 0)
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Resolves when `check()` holds, polling on the event loop; rejects after the deadline. */
async function until(check: () => boolean, what: string, deadlineMs = 120_000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

async function connectAll(url: string, dialect: Dialect, room: string, n: number): Promise<BenchClient[]> {
  const clients = Array.from({ length: n }, () => new BenchClient(url, room, dialect))
  await Promise.all(clients.map((c) => c.synced))
  return clients
}

async function fanout(url: string, dialect: Dialect) {
  const room = 'fanout'
  const [writer, ...readers] = await connectAll(url, dialect, room, load.fanoutReaders + 1)
  const latencies: number[] = []
  const sentAt = new Map<number, number>()
  for (const r of readers) {
    r.doc.getArray<number>('a').observe((event) => {
      const now = performance.now()
      for (const item of event.changes.added) for (const seq of item.content.getContent() as number[]) latencies.push(now - sentAt.get(seq)!)
    })
  }
  const arr = writer!.doc.getArray<number>('a')
  const interval = 1000 / load.rateHz
  const start = performance.now()
  for (let seq = 0; seq < load.fanoutUpdates; seq++) {
    const due = start + seq * interval
    while (performance.now() < due) await new Promise((r) => setImmediate(r))
    sentAt.set(seq, performance.now())
    arr.push([seq])
  }
  await until(() => latencies.length === load.fanoutUpdates * readers.length, 'fan-out delivery')
  for (const c of [writer!, ...readers]) c.close()
  latencies.sort((a, b) => a - b)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

async function throughput(url: string, dialect: Dialect) {
  const rooms = await Promise.all(Array.from({ length: load.rooms }, (_, i) => connectAll(url, dialect, `tp-${i}`, load.clientsPerRoom)))
  const expected = load.clientsPerRoom * load.updatesPerClient
  const start = performance.now()
  // Every client writes its updates in small bursts, yielding to the event loop between.
  const writers = rooms.flat().map(async (c) => {
    const a = c.doc.getArray<number>('a')
    for (let i = 0; i < load.updatesPerClient; i++) {
      a.push([i])
      if (i % 10 === 9) await new Promise((r) => setImmediate(r))
    }
  })
  await Promise.all(writers)
  await until(() => rooms.every((cs) => cs.every((c) => c.doc.getArray('a').length === expected)), 'throughput delivery')
  const seconds = (performance.now() - start) / 1000
  for (const c of rooms.flat()) c.close()
  const applied = load.rooms * load.clientsPerRoom * expected // every client applies every update of its room
  return { updatesPerSecond: applied / seconds, seconds }
}

async function catchUp(url: string, dialect: Dialect) {
  const [seed] = await connectAll(url, dialect, 'history', 1)
  const a = seed!.doc.getArray<number>('a')
  for (let i = 0; i < load.historyUpdates; i++) {
    a.push([i])
    if (i % 100 === 99) await new Promise((r) => setImmediate(r))
  }
  // The seed's last update is on the server when a fresh client sees all of it.
  const probe = await connectAll(url, dialect, 'history', 1)
  await until(() => probe[0]!.doc.getArray('a').length === load.historyUpdates, 'history upload')
  probe[0]!.close()
  const start = performance.now()
  const joiners = await connectAll(url, dialect, 'history', load.joiners)
  const ms = performance.now() - start
  const ok = joiners.every((c) => c.doc.getArray('a').length === load.historyUpdates)
  for (const c of [seed!, ...joiners]) c.close()
  if (!ok) throw new Error('a joiner synced without the full history')
  return { allSyncedMs: ms }
}

interface Row { server: string; fanoutP50: number; fanoutP99: number; updatesPerSecond: number; catchUpMs: number; rssMiB: number }

async function measure(target: Target): Promise<Row> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-'))
  const [cmd, ...args] = target.command(port, dataDir)
  const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    await waitForHttp(port, child)
    const url = `ws://127.0.0.1:${port}`
    const f = await fanout(url, target.dialect)
    const t = await throughput(url, target.dialect)
    const c = await catchUp(url, target.dialect)
    return { server: target.name, fanoutP50: f.p50, fanoutP99: f.p99, updatesPerSecond: t.updatesPerSecond, catchUpMs: c.allSyncedMs, rssMiB: rssMiB(child.pid!) }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const only = argValue('--only')
const rows: Row[] = []
for (const target of targets.filter((t) => !only || only.split(',').some((o) => t.name.startsWith(o)))) {
  process.stderr.write(`bench:relay ${target.name} …\n`)
  rows.push(await measure(target))
}

const base = rows[0]!
const fmt = (n: number, d = 1) => n.toFixed(d)
console.log(`\nbench:relay${quick ? ' --quick' : ''} — ${JSON.stringify(load)}\n`)
console.log(`| server | fan-out p50 ms | fan-out p99 ms | updates applied/s | catch-up ms | server RSS MiB | throughput vs ${base.server} |`)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of rows) {
  console.log(`| ${r.server} | ${fmt(r.fanoutP50)} | ${fmt(r.fanoutP99)} | ${fmt(r.updatesPerSecond, 0)} | ${fmt(r.catchUpMs, 0)} | ${fmt(r.rssMiB, 0)} | ${fmt(r.updatesPerSecond / base.updatesPerSecond, 2)}× |`)
}
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({ quick, load, rows, at: new Date().toISOString() }, null, 2))
console.log(`\nwrote ${jsonPath}`)
