/**
 * `npm run bench:relay:store` — what the LevelDB store costs per append, alone: 50 rooms, each
 * appending 2 one-character updates (with its state vector) per round, one round per group
 * commit, as a relay's flush tick does under bench:relay's 1-writer load. Two modes of
 * `LevelDbStorage` in the same run, rounds alternating between them:
 * - `vector per append` (`stateVectorWriteBackMs: 0`): every append writes the room's vector;
 * - `lazy vector` (the default): the vector is written back once a second.
 * CPU is the process's own (event loop and LevelDB's threads), per append; medians of the rounds.
 *
 * Flags: --rounds N (alternating measurements per mode, default 5), --appends N (rounds of 50
 *        appends per measurement, default 1500), --durability sync|process (default sync),
 *        --json PATH (default crdt-bench/results/relay-store.json).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import * as Y from 'yjs'
import { LevelDbStorage, type Durability } from '../../relay/storage/leveldb.ts'
import { argValue } from './targets.ts'
import { median } from './median.ts'

const ROOMS = 50
const rounds = Number(argValue('--rounds') ?? 5)
const appends = Number(argValue('--appends') ?? 1500)
const durability = (argValue('--durability') ?? 'sync') as Durability
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay-store.json'

/** Per round, per room: the round's two updates and the room's state vector after them. */
function workload(): Array<Array<[Uint8Array[], Uint8Array]>> {
  const docs = Array.from({ length: ROOMS }, (_, i) => {
    const doc = new Y.Doc()
    doc.clientID = i + 1
    return doc
  })
  const pending: Uint8Array[][] = docs.map(() => [])
  docs.forEach((doc, i) => doc.on('update', (u: Uint8Array) => pending[i]!.push(u)))
  const out: Array<Array<[Uint8Array[], Uint8Array]>> = []
  for (let r = 0; r < appends + 50; r++) {
    out.push(docs.map((doc, i) => {
      doc.getText('t').insert(2 * r, 'a')
      doc.getText('t').insert(2 * r + 1, 'b')
      return [pending[i]!.splice(0), Y.encodeStateVector(doc)]
    }))
  }
  return out
}

const work = workload()

/** CPU µs per append over `appends` rounds (after 50 unmeasured ones) in a fresh store. */
async function measure(writeBackMs: number | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-store-'))
  const storage = await LevelDbStorage.open(dir, { durability, ...(writeBackMs === undefined ? {} : { stateVectorWriteBackMs: writeBackMs }) })
  const round = (row: Array<[Uint8Array[], Uint8Array]>): Promise<void[]> =>
    Promise.all(row.map(([updates, sv], i) => storage.append(`room-${i}`, updates, sv)))
  for (let r = 0; r < 50; r++) await round(work[r]!)
  const start = process.cpuUsage()
  for (let r = 50; r < work.length; r++) await round(work[r]!)
  const used = process.cpuUsage(start)
  await storage.close()
  rmSync(dir, { recursive: true, force: true })
  return (used.user + used.system) / (appends * ROOMS)
}

const perAppend: number[] = []
const lazy: number[] = []
for (let i = 0; i < rounds; i++) {
  perAppend.push(await measure(0))
  lazy.push(await measure(undefined))
}
const result = {
  rooms: ROOMS, appendsPerRoom: appends, rounds, durability,
  vectorPerAppendMicros: median(perAppend), lazyVectorMicros: median(lazy), ratio: median(lazy) / median(perAppend),
  vectorPerAppendRange: [Math.min(...perAppend), Math.max(...perAppend)], lazyVectorRange: [Math.min(...lazy), Math.max(...lazy)],
}
const f = (x: number): string => x.toFixed(2)
process.stdout.write(`\nbench:relay:store — ${ROOMS} rooms × ${appends} appends of 2 updates, durability ${durability}, medians of ${rounds} alternating rounds\n\n`)
process.stdout.write('| store | CPU µs / append | min–max | ratio |\n| --- | ---: | ---: | ---: |\n')
process.stdout.write(`| vector per append | ${f(result.vectorPerAppendMicros)} | ${f(Math.min(...perAppend))}–${f(Math.max(...perAppend))} | 1.00× |\n`)
process.stdout.write(`| lazy vector | ${f(result.lazyVectorMicros)} | ${f(Math.min(...lazy))}–${f(Math.max(...lazy))} | ${result.ratio.toFixed(2)}× |\n`)
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify(result, null, 2))
process.stdout.write(`\nwrote ${jsonPath}\n`)
