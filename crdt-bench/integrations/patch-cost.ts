/**
 * `npm run bench:patch` — what one JSON edit (`PATCH /api/rooms/:room`) costs against the same
 * change sent as a Yjs update (`POST /api/rooms/:room/update`), in one run, on a relay in-process
 * (LevelDB in a temp dir, history off). A PATCH copies the room's document into a scratch doc to
 * run its ops all-or-nothing, so its cost grows with the document; a posted update's does not.
 *
 * For documents of 100, 1,000 and 5,000 paragraphs (about 100 characters each): `--reps` requests
 * of each kind, one at a time, each inserting one word in the middle paragraph. Prints the median
 * wall time per request and the process CPU time per request (client and relay share the process;
 * the client side is the same for both kinds), and the ratio PATCH / posted update.
 *
 * Flags: --reps N (default 40), --json PATH (default crdt-bench/results/patch.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as Y from 'yjs'
import { createRelay } from '../../relay/server/server.ts'
import { createLogger } from '../../relay/observability/logger.ts'
import { editorSchema as schema } from '../../editor/schema.ts'
import { BLOCKS_TEXT } from '../../editor/blocks/layout.ts'
import { seedUpdate } from '../../editor/blocks/convert.ts'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const reps = Number(arg('--reps') ?? 40)
const jsonPath = arg('--json') ?? 'crdt-bench/results/patch.json'
const SIZES = [100, 1_000, 5_000]
const LINE = 'The quick brown fox jumps over the lazy dog while the relay keeps every keystroke it was sent. '

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

interface Row {
  paragraphs: number
  characters: number
  patchMs: number
  updateMs: number
  patchCpuMs: number
  updateCpuMs: number
}

async function measure(httpUrl: string, paragraphs: number): Promise<Row> {
  const room = `patch-${paragraphs}`
  const doc = schema.node('doc', null, Array.from({ length: paragraphs }, () => schema.node('paragraph', null, [schema.text(LINE)])))
  const seeded = await fetch(`${httpUrl}/api/rooms/${room}/update`, { method: 'POST', body: Buffer.from(seedUpdate(doc, 4242)) })
  if (seeded.status !== 200) throw new Error(`seed: ${seeded.status}`)
  // the position of the middle paragraph's first character (each paragraph is LINE.length + 2)
  const at = Math.floor(paragraphs / 2) * (LINE.length + 2) + 1
  // a client holding the room, to make the same insertion as a Yjs update
  const client = new Y.Doc()
  Y.applyUpdate(client, new Uint8Array(await (await fetch(`${httpUrl}/api/rooms/${room}/update`)).arrayBuffer()))
  const text = client.getText(BLOCKS_TEXT)
  const middle = text.toString().length >> 1
  const patchTimes: number[] = []
  const updateTimes: number[] = []
  let patchCpu = 0
  let updateCpu = 0
  for (let i = 0; i < reps; i++) {
    let cpu = cpuMs()
    let t = performance.now()
    const res = await fetch(`${httpUrl}/api/rooms/${room}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ops: [{ op: 'insertText', at, text: 'word ' }] }),
    })
    if (res.status !== 200) throw new Error(`PATCH: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
    patchTimes.push(performance.now() - t)
    patchCpu += cpuMs() - cpu

    let update: Uint8Array | null = null
    const take = (u: Uint8Array): void => void (update = u)
    client.on('update', take)
    text.insert(middle, 'word ')
    client.off('update', take)
    cpu = cpuMs()
    t = performance.now()
    const posted = await fetch(`${httpUrl}/api/rooms/${room}/update`, { method: 'POST', body: Buffer.from(update!) })
    if (posted.status !== 200) throw new Error(`POST update: ${posted.status}`)
    await posted.arrayBuffer()
    updateTimes.push(performance.now() - t)
    updateCpu += cpuMs() - cpu
  }
  client.destroy()
  return {
    paragraphs,
    characters: paragraphs * LINE.length,
    patchMs: median(patchTimes),
    updateMs: median(updateTimes),
    patchCpuMs: patchCpu / reps,
    updateCpuMs: updateCpu / reps,
  }
}

async function main(): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'tandem-bench-patch-'))
  const relay = await createRelay({ host: '127.0.0.1', port: 0, data, history: false }, { logger: createLogger('error') })
  const rows: Row[] = []
  try {
    for (const size of SIZES) rows.push(await measure(relay.httpUrl, size))
  } finally {
    await relay.close()
    await rm(data, { recursive: true, force: true })
  }
  const f = (x: number): string => x.toFixed(2)
  process.stdout.write(`\nJSON edit vs posted Yjs update, one word inserted in the middle paragraph (${reps} requests each, one at a time)\n\n`)
  process.stdout.write('| paragraphs | characters | PATCH ms (median) | update ms (median) | PATCH CPU ms | update CPU ms | CPU ratio |\n|---|---|---|---|---|---|---|\n')
  for (const r of rows) {
    process.stdout.write(`| ${r.paragraphs.toLocaleString('en')} | ${r.characters.toLocaleString('en')} | ${f(r.patchMs)} | ${f(r.updateMs)} | ${f(r.patchCpuMs)} | ${f(r.updateCpuMs)} | ${(r.patchCpuMs / r.updateCpuMs).toFixed(1)}x |\n`)
  }
  mkdirSync(dirname(jsonPath), { recursive: true })
  writeFileSync(jsonPath, JSON.stringify({ reps, rows }, null, 2))
}

await main()
