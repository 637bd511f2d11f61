/**
 * `npm run bench:relay:apply` — what a room's Yjs objects cost per applied update, stock against
 * the relay's (`relay/room/room-doc.ts`), in the same run:
 * - doc: the `automerge-paper` trace typed by one writer, one update per keystroke (trace
 *   transaction), applied with `Y.applyUpdate` to a fresh `Y.Doc` and to a `RoomDoc`, each with one
 *   `afterTransaction` listener as the relay has; both must end with the same text;
 * - awareness: 10 clients moving their cursors (one awareness update per move, as an editor sends
 *   with each keystroke), applied with `applyAwarenessUpdate` to a fresh `Awareness` and to a
 *   `RoomAwareness`, each with one `update` listener as the relay has.
 * Rounds alternate between stock and relay; the figure is the median CPU per update.
 *
 * Flags: --txns N (a prefix of the trace; default 50,000), --moves N (cursor moves per client,
 *        default 3,000), --rounds N (default 7), --json PATH (default crdt-bench/results/relay-apply.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { applyPatches, loadTrace } from '../sim/traces.ts'
import { RoomAwareness, RoomDoc } from '../../relay/room/room-doc.ts'
import { argValue } from './targets.ts'
import { median } from './median.ts'

const trace = loadTrace('automerge-paper')
const txnCount = Math.min(Number(argValue('--txns') ?? 50_000), trace.txns.length)
const moves = Number(argValue('--moves') ?? 3_000)
const rounds = Number(argValue('--rounds') ?? 7)
const jsonPath = argValue('--json') ?? 'crdt-bench/results/relay-apply.json'

const writer = new Y.Doc()
const updates: Uint8Array[] = []
writer.on('update', (u: Uint8Array) => updates.push(u))
const text = writer.getText('t')
for (const txn of trace.txns.slice(0, txnCount)) writer.transact(() => applyPatches(text, txn.patches))
const expected = text.toString()

const cursors: Uint8Array[] = []
const movers = Array.from({ length: 10 }, (_, i) => {
  const doc = new Y.Doc()
  doc.clientID = i + 1
  return new Awareness(doc)
})
for (let k = 0; k < moves; k++) {
  for (const a of movers) {
    a.setLocalStateField('cursor', { anchor: k, head: k + 1, user: { name: `user ${a.clientID}`, color: '#30bced' } })
    cursors.push(encodeAwarenessUpdate(a, [a.clientID]))
  }
}
for (const a of movers) a.destroy()

/** CPU µs per update applying every trace update to a fresh doc made by `make`. */
function measureDoc(make: () => Y.Doc): number {
  const doc = make()
  doc.on('afterTransaction', () => undefined)
  const start = process.cpuUsage()
  for (const update of updates) Y.applyUpdate(doc, update, 'bench')
  const used = process.cpuUsage(start)
  if (doc.getText('t').toString() !== expected) throw new Error(`${doc.constructor.name} did not end with the trace's text`)
  doc.destroy()
  return (used.user + used.system) / updates.length
}

/** CPU µs per update applying every cursor move to a fresh awareness made by `make`. */
function measureAwareness(make: (doc: Y.Doc) => Awareness): number {
  const awareness = make(new Y.Doc())
  awareness.setLocalState(null)
  let seen = 0
  awareness.on('update', () => seen++)
  const start = process.cpuUsage()
  for (const update of cursors) applyAwarenessUpdate(awareness, update, 'bench')
  const used = process.cpuUsage(start)
  if (seen !== cursors.length || awareness.getStates().size !== movers.length) throw new Error(`${awareness.constructor.name} missed updates`)
  awareness.destroy()
  return (used.user + used.system) / cursors.length
}

interface Pair { stock: number[]; room: number[] }
const doc: Pair = { stock: [], room: [] }
const awareness: Pair = { stock: [], room: [] }
// One unmeasured round each first (JIT warm-up).
measureDoc(() => new Y.Doc())
measureDoc(() => new RoomDoc())
measureAwareness((d) => new Awareness(d))
measureAwareness((d) => new RoomAwareness(d))
for (let i = 0; i < rounds; i++) {
  doc.stock.push(measureDoc(() => new Y.Doc()))
  doc.room.push(measureDoc(() => new RoomDoc()))
  awareness.stock.push(measureAwareness((d) => new Awareness(d)))
  awareness.room.push(measureAwareness((d) => new RoomAwareness(d)))
}
const summary = (p: Pair) => ({
  stockMicros: median(p.stock), roomMicros: median(p.room), ratio: median(p.room) / median(p.stock),
  stockRange: [Math.min(...p.stock), Math.max(...p.stock)], roomRange: [Math.min(...p.room), Math.max(...p.room)],
})
const result = {
  rounds,
  doc: { trace: 'automerge-paper', updates: updates.length, ...summary(doc) },
  awareness: { clients: movers.length, updates: cursors.length, ...summary(awareness) },
}
const f = (x: number): string => x.toFixed(2)
const row = (name: string, micros: number, range: number[], ratio: number): string =>
  `| ${name} | ${f(micros)} | ${f(range[0]!)}–${f(range[1]!)} | ${ratio.toFixed(2)}× |\n`
process.stdout.write(`\nbench:relay:apply — medians of ${rounds} alternating rounds: ${updates.length} keystroke updates of automerge-paper; ${cursors.length} cursor moves of ${movers.length} clients\n\n`)
process.stdout.write('| applied to | CPU µs / update | min–max | ratio |\n| --- | ---: | ---: | ---: |\n')
process.stdout.write(row('Y.Doc', result.doc.stockMicros, result.doc.stockRange, 1))
process.stdout.write(row('RoomDoc', result.doc.roomMicros, result.doc.roomRange, result.doc.ratio))
process.stdout.write(row('Awareness', result.awareness.stockMicros, result.awareness.stockRange, 1))
process.stdout.write(row('RoomAwareness', result.awareness.roomMicros, result.awareness.roomRange, result.awareness.ratio))
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify(result, null, 2))
process.stdout.write(`\nwrote ${jsonPath}\n`)
