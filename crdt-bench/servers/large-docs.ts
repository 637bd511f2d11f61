/**
 * `npm run bench:relay:large` — large documents: the `automerge-paper` trace's final document
 * (and one 10x larger: the trace typed 10 times in a row into the same Y.Text) stored in a
 * room; clients join one after another (after one unmeasured join of the same document in a
 * room of its own, the joining client's warm-up). Per server: time until a joining client is
 * synced, server CPU per join, and the server's memory with 100 rooms each holding the 1x
 * document.
 *
 * The documents are built once and cached in node_modules/.cache/tandem-bench/. Rooms are
 * seeded and held open by doc-less clients (see `DoclessClient`), so the load generator does
 * not hold 100 copies itself; a seed is known to be applied once the server answered a sync
 * step 1 sent after it on the same connection.
 *
 * Flags: --only NAME[,NAME], --scales 1,10 (default), --joins N (default 5), --rooms N (rooms
 *        for the memory point, default 100; 0 skips it), --json PATH
 *        (default crdt-bench/results/relay-large.json), --profile DIR (V8 CPU profiles of the servers).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { loadTrace } from '../sim/traces.ts'
import { BenchClient, DoclessClient, type Dialect } from './bench-client.ts'
import { bundleServers, type ServerProcess } from './process.ts'
import { argValue, selectTargets, withServer } from './targets.ts'

/** The paper's final document typed `times` times in a row into one Y.Text, as one update (cached). */
export function paperDocument(cacheDir: string, times: number): { update: Uint8Array; stateVector: Uint8Array; length: number } {
  const path = join(cacheDir, `automerge-paper-x${times}.bin`)
  let update: Uint8Array
  if (existsSync(path)) update = new Uint8Array(readFileSync(path))
  else {
    const trace = loadTrace('automerge-paper')
    const doc = new Y.Doc()
    doc.clientID = 1
    const text = doc.getText('t')
    for (let round = 0; round < times; round++) {
      const offset = text.length
      for (const txn of trace.txns) {
        doc.transact(() => {
          for (const [pos, del, ins] of txn.patches) {
            if (del > 0) text.delete(offset + pos, del)
            if (ins.length > 0) text.insert(offset + pos, ins)
          }
        })
      }
    }
    if (text.toString() !== trace.endContent.repeat(times)) throw new Error('paper replay does not match endContent')
    update = Y.encodeStateAsUpdate(doc)
    writeFileSync(path, update)
  }
  const check = new Y.Doc()
  Y.applyUpdate(check, update)
  const result = { update, stateVector: Y.encodeStateVector(check), length: check.getText('t').length }
  check.destroy()
  return result
}

/** Seeds `room` with `update` through a doc-less client; resolves once the server applied it. */
async function seed(url: string, dialect: Dialect, room: string, update: Uint8Array, stateVector: Uint8Array): Promise<DoclessClient> {
  const client = new DoclessClient(url, room, dialect)
  await client.opened
  client.sendUpdate(update)
  await client.ask(stateVector)
  return client
}

interface JoinResult { scale: number; docBytes: number; joins: number; meanJoinMs: number; maxJoinMs: number; cpuMsPerJoin: number }

/** One client joins `room`; resolves with the time until it is synced. */
async function joinOnce(url: string, dialect: Dialect, room: string, doc: ReturnType<typeof paperDocument>): Promise<number> {
  const start = performance.now()
  const client = new BenchClient(url, room, dialect)
  await client.synced
  const ms = performance.now() - start
  if (client.doc.getText('t').length !== doc.length) throw new Error(`joiner got ${client.doc.getText('t').length} characters, expected ${doc.length}`)
  client.close()
  client.doc.destroy()
  return ms
}

async function joins(url: string, dialect: Dialect, server: ServerProcess, scale: number, doc: ReturnType<typeof paperDocument>, n: number): Promise<JoinResult> {
  const room = `large-x${scale}`
  // One unmeasured join of the same document in a room of its own first: the joining client's
  // first large apply (its JIT warm-up, about 70 ms) otherwise weighs on every server's mean.
  // The measured room stays cold, so its first join still pays the server's whole encoding.
  const warm = await seed(url, dialect, `${room}-warm-up`, doc.update, doc.stateVector)
  await joinOnce(url, dialect, `${room}-warm-up`, doc)
  warm.close()
  const seeder = await seed(url, dialect, room, doc.update, doc.stateVector)
  const times: number[] = []
  const cpu0 = server.cpuSeconds()
  for (let i = 0; i < n; i++) times.push(await joinOnce(url, dialect, room, doc))
  const cpu = server.cpuSeconds() - cpu0
  seeder.close()
  return {
    scale,
    docBytes: doc.update.byteLength,
    joins: n,
    meanJoinMs: times.reduce((a, b) => a + b, 0) / n,
    maxJoinMs: Math.max(...times),
    cpuMsPerJoin: (cpu * 1000) / n,
  }
}

interface MemoryResult { rooms: number; baselineMiB: number; loadedMiB: number; mibPerRoom: number }

async function manyRooms(url: string, dialect: Dialect, server: ServerProcess, doc: ReturnType<typeof paperDocument>, rooms: number): Promise<MemoryResult> {
  const warm = await seed(url, dialect, 'warm-up', new Uint8Array([0, 0]), new Uint8Array([0]))
  warm.close()
  const baselineMiB = server.rssMiB()
  const seeders: DoclessClient[] = []
  for (let i = 0; i < rooms; i += 10) {
    seeders.push(...(await Promise.all(Array.from({ length: Math.min(10, rooms - i) }, (_, k) => seed(url, dialect, `many-${i + k}`, doc.update, doc.stateVector)))))
  }
  await new Promise((r) => setTimeout(r, 1000)) // let the server's memory settle before sampling it
  const loadedMiB = server.rssMiB()
  for (const s of seeders) s.close()
  return { rooms, baselineMiB, loadedMiB, mibPerRoom: (loadedMiB - baselineMiB) / rooms }
}

const scales = (argValue('--scales') ?? '1,10').split(',').map(Number)
const joinCount = Number(argValue('--joins') ?? 5)
const roomCount = Number(argValue('--rooms') ?? 100)
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay-large.json'
const profileDir = argValue('--profile')
const bundle = await bundleServers()
const docs = new Map(scales.map((s) => [s, paperDocument(bundle, s)]))
const one = docs.get(1) ?? paperDocument(bundle, 1)
const rows: Array<{ server: string; joins: JoinResult[]; memory: MemoryResult | null }> = []
for (const target of selectTargets(argValue('--only')).filter((t) => t.name !== 'forwarder')) {
  process.stderr.write(`bench:relay:large ${target.name} …\n`)
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []
  const joined = await withServer(bundle, target, async (url, server) => {
    const results: JoinResult[] = []
    for (const scale of scales) results.push(await joins(url, target.dialect, server, scale, docs.get(scale)!, joinCount))
    return results
  }, nodeArgs)
  // Memory on a fresh process, so the joins' garbage is not in its baseline.
  const memory = roomCount > 0 ? await withServer(bundle, target, (url, server) => manyRooms(url, target.dialect, server, one, roomCount), nodeArgs) : null
  rows.push({ server: target.name, joins: joined, memory })
}

const base = rows[0]!
const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–')
const cell = (n: number, b: number, d = 1): string => `${fmt(n, d)} (${fmt(n / b, 2)}×)`
console.log(`\nbench:relay:large — automerge-paper final doc x${scales.join(', x')}, ${joinCount} joins each; ratios against ${base.server}\n`)
console.log(`| measure | ${rows.map((r) => r.server).join(' | ')} |`)
console.log(`| --- |${rows.map(() => ' ---: |').join('')}`)
for (const [i, scale] of scales.entries()) {
  console.log(`| x${scale} (${fmt(base.joins[i]!.docBytes / 1024, 0)} KiB): join ms (mean) | ${rows.map((r) => cell(r.joins[i]!.meanJoinMs, base.joins[i]!.meanJoinMs)).join(' | ')} |`)
  console.log(`| x${scale}: server CPU ms per join | ${rows.map((r) => cell(r.joins[i]!.cpuMsPerJoin, base.joins[i]!.cpuMsPerJoin)).join(' | ')} |`)
}
if (rows.every((r) => r.memory)) {
  console.log(`| ${roomCount} x1 rooms loaded: RSS MiB | ${rows.map((r) => cell(r.memory!.loadedMiB, base.memory!.loadedMiB, 0)).join(' | ')} |`)
  console.log(`| MiB per x1 room | ${rows.map((r) => cell(r.memory!.mibPerRoom, base.memory!.mibPerRoom, 2)).join(' | ')} |`)
}
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({ scales, joinCount, roomCount, rows, at: new Date().toISOString() }, null, 2))
console.log(`\nwrote ${jsonPath}`)
