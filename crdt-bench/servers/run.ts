/**
 * `npm run bench:relay` — tandem's relay against the servers people use today and against a
 * naive forwarder (the floor for a relay that forwards bytes), one server after another in one
 * run, on loopback, under the same outside load, printed as ratios against tandem (LevelDB).
 *
 * tandem (LevelDB) runs as `npm start` does (`--durability sync`: every write group fsynced
 * before it is acknowledged); "no fsync" is `--durability process`, to show what fsync costs.
 *
 * Each server is bundled to plain JavaScript and runs in its own `node` process (see
 * `process.ts`): CPU and memory are read from `/proc/<pid>` of that process. Per server:
 *   - load points (see `load.ts`): 50 rooms x 10 clients with 1 writer @ 20/s and with
 *     4 writers @ 10/s, 50 rooms x 20 clients with 1 writer @ 40/s, and 50 x 10 with 1 writer
 *     @ 20/s whose every keystroke is followed by a cursor move (awareness) — server CPU µs per
 *     delivered update, p50/p99 fan-out ms, lost updates, peak RSS of the server;
 *   - idle point (see `idle.ts`, a fresh process): memory per loaded room and per idle
 *     connection with 5,000 connections.
 *
 * Flags: --seconds N (writing time per load point, default 20), --idle N (connections of the
 *        idle point, default 5000; 0 skips it), --only NAME[,NAME] (servers whose name starts
 *        with one of these), --json PATH (default crdt-bench/results/relay.json),
 *        --seed N (default 1), --quick (= --seconds 3 --idle 500),
 *        --points NAME[,NAME] (load points to run), --profile DIR (servers write a V8 CPU profile there),
 *        --repeat N (run every server N times, interleaved — server A, B, …, then A, B, … again — and
 *        print medians with the min–max of CPU per delivery: one run differs from the next by up
 *        to ±10 % on 2 shared cores; lost and deliveries are summed over the runs).
 * Quote figures only from a run with nothing else on the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname } from 'node:path'
import { bundleServers } from './process.ts'
import { argValue, selectTargets, withServer, type Target } from './targets.ts'
import { median } from './median.ts'
import { runLoad, type LoadPoint, type LoadResult } from './load.ts'
import { runIdle, type IdleResult } from './idle.ts'

const POINTS: LoadPoint[] = [
  { name: '50x10-1w20', rooms: 50, clientsPerRoom: 10, writersPerRoom: 1, rateHz: 20 },
  { name: '50x10-4w10', rooms: 50, clientsPerRoom: 10, writersPerRoom: 4, rateHz: 10 },
  { name: '50x20-1w40', rooms: 50, clientsPerRoom: 20, writersPerRoom: 1, rateHz: 40 },
  { name: '50x10-1w20-cursor', rooms: 50, clientsPerRoom: 10, writersPerRoom: 1, rateHz: 20, cursors: true },
]

const quick = process.argv.includes('--quick')
const seconds = Number(argValue('--seconds') ?? (quick ? 3 : 20))
const idleConnections = Number(argValue('--idle') ?? (quick ? 500 : 5000))
const idleRooms = 100
const seed = Number(argValue('--seed') ?? 1)
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay.json'
const only = argValue('--only')
const pointsArg = argValue('--points')
const points = POINTS.filter((p) => !pointsArg || pointsArg.split(',').includes(p.name))
const profileDir = argValue('--profile')
const repeat = Number(argValue('--repeat') ?? 1)
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write(`bench:relay: --repeat needs a whole number of runs, 1 or more (got ${argValue('--repeat')})\n`)
  process.exit(2)
}
const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []

interface Row { server: string; load: LoadResult[]; peakRssMiB: number; idle: IdleResult | null }

async function measure(bundle: string, target: Target): Promise<Row> {
  const { load, peakRssMiB } = await withServer(bundle, target, async (url, server) => {
    const load: LoadResult[] = []
    // A short unmeasured warm-up, so the first point does not pay for the server's JIT.
    await runLoad(url, target.dialect, server, { ...points[0]!, name: 'warm-up' }, Math.min(2, seconds), seed + 100)
    for (const [i, point] of points.entries()) {
      process.stderr.write(`  ${point.name} …\n`)
      load.push(await runLoad(url, target.dialect, server, point, seconds, seed + i))
    }
    return { load, peakRssMiB: server.peakRssMiB() }
  }, nodeArgs)
  let idle: IdleResult | null = null
  if (idleConnections > 0) {
    process.stderr.write(`  idle ${idleConnections} connections …\n`)
    idle = await withServer(bundle, target, (url, server) => runIdle(url, target.dialect, server, idleConnections, idleRooms), nodeArgs)
  }
  return { server: target.name, load, peakRssMiB, idle }
}

const bundle = await bundleServers()
const targets = selectTargets(only)
/** runs[r][t]: run r of target t. */
const runs: Row[][] = []
for (let r = 0; r < repeat; r++) {
  const run: Row[] = []
  for (const target of targets) {
    process.stderr.write(`bench:relay ${target.name}${repeat > 1 ? ` (run ${r + 1}/${repeat})` : ''} …\n`)
    run.push(await measure(bundle, target))
  }
  runs.push(run)
}

/** One row of medians (lost and deliveries summed) from a target's runs. */
function medianRow(of: Row[]): Row {
  const first = of[0]!
  const pick = <T>(get: (r: Row) => T): T[] => of.map(get)
  const load = first.load.map((l, i): LoadResult => {
    const all = pick((r) => r.load[i]!)
    const m = (get: (x: LoadResult) => number): number => median(all.map(get))
    return {
      ...l,
      writes: all.reduce((n, x) => n + x.writes, 0),
      deliveries: all.reduce((n, x) => n + x.deliveries, 0),
      lost: all.reduce((n, x) => n + x.lost, 0),
      cpuMicrosPerDelivery: m((x) => x.cpuMicrosPerDelivery),
      eventLoopCpuMicrosPerDelivery: m((x) => x.eventLoopCpuMicrosPerDelivery),
      writeSyscallsPerDelivery: m((x) => x.writeSyscallsPerDelivery),
      p50Ms: m((x) => x.p50Ms),
      p99Ms: m((x) => x.p99Ms),
      peakRssMiB: m((x) => x.peakRssMiB),
    }
  })
  const idle = first.idle
    ? {
        ...first.idle,
        baselineMiB: median(pick((r) => r.idle!.baselineMiB)),
        kibPerLoadedRoom: median(pick((r) => r.idle!.kibPerLoadedRoom)),
        kibPerIdleConnection: median(pick((r) => r.idle!.kibPerIdleConnection)),
        totalMiB: median(pick((r) => r.idle!.totalMiB)),
      }
    : null
  return { server: first.server, load, peakRssMiB: median(pick((r) => r.peakRssMiB)), idle }
}
const rows: Row[] = targets.map((_, t) => medianRow(runs.map((run) => run[t]!)))

const base = rows[0]!
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–')
const ratio = (n: number, b: number): string => (Number.isFinite(n / b) ? `${(n / b).toFixed(2)}×` : '–')
const runsNote = repeat > 1 ? `, medians of ${repeat} interleaved runs` : ''
console.log(`\nbench:relay — ${seconds} s per load point, seed ${seed}, ${cpus().length} CPUs${runsNote}; ratios against ${base.server}\n`)
console.log(`| load point | ${rows.map((r) => r.server).join(' | ')} |`)
console.log(`| --- |${rows.map(() => ' ---: |').join('')}`)
for (const [i, point] of points.entries()) {
  const cell = (r: Row, pick: (l: LoadResult) => number, d = 1): string => `${fmt(pick(r.load[i]!), d)} (${ratio(pick(r.load[i]!), pick(base.load[i]!))})`
  console.log(`| ${point.name}: CPU µs / delivery | ${rows.map((r) => cell(r, (l) => l.cpuMicrosPerDelivery)).join(' | ')} |`)
  if (repeat > 1) {
    const range = (t: number): string => {
      const all = runs.map((run) => run[t]!.load[i]!.cpuMicrosPerDelivery)
      return `${fmt(Math.min(...all))}–${fmt(Math.max(...all))}`
    }
    console.log(`| ${point.name}: CPU µs / delivery, min–max | ${rows.map((_, t) => range(t)).join(' | ')} |`)
  }
  console.log(`| ${point.name}: of which event-loop thread | ${rows.map((r) => cell(r, (l) => l.eventLoopCpuMicrosPerDelivery)).join(' | ')} |`)
  console.log(`| ${point.name}: write syscalls / delivery | ${rows.map((r) => cell(r, (l) => l.writeSyscallsPerDelivery, 2)).join(' | ')} |`)
  console.log(`| ${point.name}: p99 fan-out ms | ${rows.map((r) => cell(r, (l) => l.p99Ms)).join(' | ')} |`)
  console.log(`| ${point.name}: p50 fan-out ms | ${rows.map((r) => cell(r, (l) => l.p50Ms)).join(' | ')} |`)
  console.log(`| ${point.name}: lost / deliveries | ${rows.map((r) => `${r.load[i]!.lost} / ${r.load[i]!.deliveries}`).join(' | ')} |`)
}
console.log(`| peak RSS MiB (load points) | ${rows.map((r) => `${fmt(r.peakRssMiB, 0)} (${ratio(r.peakRssMiB, base.peakRssMiB)})`).join(' | ')} |`)
if (rows.every((r) => r.idle)) {
  const idle = (r: Row, pick: (i: IdleResult) => number, d = 1): string => `${fmt(pick(r.idle!), d)} (${ratio(pick(r.idle!), pick(base.idle!))})`
  console.log(`| idle: KiB per loaded room | ${rows.map((r) => idle(r, (i) => i.kibPerLoadedRoom)).join(' | ')} |`)
  console.log(`| idle: KiB per idle connection | ${rows.map((r) => idle(r, (i) => i.kibPerIdleConnection)).join(' | ')} |`)
  console.log(`| idle: RSS MiB with ${base.idle!.connections} connections | ${rows.map((r) => idle(r, (i) => i.totalMiB, 0)).join(' | ')} |`)
}
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({ seconds, seed, repeat, idleConnections, idleRooms, points, rows, runs: repeat > 1 ? runs : undefined, at: new Date().toISOString() }, null, 2))
console.log(`\nwrote ${jsonPath}`)
