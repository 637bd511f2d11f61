/**
 * `npm run bench:relay:apply` — what a room doc costs per applied update: the `automerge-paper`
 * trace typed by one writer, one update per keystroke (trace transaction), applied with
 * `Y.applyUpdate` to a fresh room doc — a plain `Y.Doc` (the baseline) against the relay's
 * `RoomDoc` (`relay/room-doc.ts`), with one `afterTransaction` listener as the relay has.
 * Rounds alternate between the two; the figure is the median CPU per update over the rounds,
 * and the two docs must end with the same text.
 *
 * Flags: --txns N (a prefix of the trace; default 50,000), --rounds N (default 7),
 *        --json PATH (default crdt-bench/results/relay-apply.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import * as Y from 'yjs'
import { loadTrace } from '../sim/traces.ts'
import { RoomDoc } from '../../relay/room-doc.ts'
import { argValue } from './targets.ts'

type Patch = readonly [number, number, string]
const trace = loadTrace('automerge-paper')
const txnCount = Math.min(Number(argValue('--txns') ?? 50_000), trace.txns.length)
const rounds = Number(argValue('--rounds') ?? 7)
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay-apply.json'

const writer = new Y.Doc()
const updates: Uint8Array[] = []
writer.on('update', (u: Uint8Array) => updates.push(u))
const text = writer.getText('t')
for (const txn of trace.txns.slice(0, txnCount)) {
  writer.transact(() => {
    for (const [pos, del, ins] of txn.patches as readonly Patch[]) {
      if (del > 0) text.delete(pos, del)
      if (ins.length > 0) text.insert(pos, ins)
    }
  })
}
const expected = text.toString()

/** CPU µs per update applying every update to a fresh doc made by `make`. */
function measure(make: () => Y.Doc): number {
  const doc = make()
  doc.on('afterTransaction', () => undefined)
  const start = process.cpuUsage()
  for (const update of updates) Y.applyUpdate(doc, update, 'bench')
  const used = process.cpuUsage(start)
  if (doc.getText('t').toString() !== expected) throw new Error(`${doc.constructor.name} did not end with the trace's text`)
  doc.destroy()
  return (used.user + used.system) / updates.length
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const plain: number[] = []
const room: number[] = []
// One unmeasured round each first (JIT warm-up).
measure(() => new Y.Doc())
measure(() => new RoomDoc())
for (let i = 0; i < rounds; i++) {
  plain.push(measure(() => new Y.Doc()))
  room.push(measure(() => new RoomDoc()))
}
const result = {
  trace: 'automerge-paper', updates: updates.length, rounds,
  yDocMicros: median(plain), roomDocMicros: median(room), ratio: median(room) / median(plain),
  yDocRange: [Math.min(...plain), Math.max(...plain)], roomDocRange: [Math.min(...room), Math.max(...room)],
}
const f = (x: number): string => x.toFixed(2)
process.stdout.write(`\nbench:relay:apply — ${updates.length} updates of automerge-paper, medians of ${rounds} alternating rounds\n\n`)
process.stdout.write('| doc | CPU µs / applied update | min–max | ratio |\n| --- | ---: | ---: | ---: |\n')
process.stdout.write(`| Y.Doc | ${f(result.yDocMicros)} | ${f(result.yDocRange[0]!)}–${f(result.yDocRange[1]!)} | 1.00× |\n`)
process.stdout.write(`| RoomDoc | ${f(result.roomDocMicros)} | ${f(result.roomDocRange[0]!)}–${f(result.roomDocRange[1]!)} | ${result.ratio.toFixed(2)}× |\n`)
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify(result, null, 2))
process.stdout.write(`\nwrote ${jsonPath}\n`)
