/**
 * `npm run bench:history` — what document history costs, on a real relay (in-process, LevelDB in a
 * temp dir, every call over HTTP or WebSocket on loopback):
 *
 * 1. **Latency** for a large document: a ~500k-character document in the editor's block layout
 *    (5,000 paragraphs) with 200 versions, each made by 50 random edits typed through the relay
 *    and recorded when the room goes quiet. Median of `--reps` calls: list the versions, render a
 *    preview (the version as ProseMirror JSON) of the newest, a middle and the oldest version, a
 *    diff between consecutive versions and across the whole history, and a restore (of a middle
 *    version, then of the version just before that restore).
 * 2. **Disk overhead** on a real editing trace: `automerge-paper` (259,778 edits) typed through
 *    the relay by one client, one transaction per keystroke, with a version every 1,000 edits
 *    (the client pauses until the relay has recorded it). History bytes (every record's key and
 *    value in `<data>/history`) and the history directory's size on disk, against the live
 *    document (`GET /api/rooms/:room/update`); for reference, the same trace kept whole (a Yjs
 *    doc that never collects garbage: every character ever typed, what a full-history copy holds).
 *
 * Flags: --quick (50k characters, 40 versions, the trace's first 40,000 edits), --reps N (default
 * 7), --only latency|disk, --json PATH (default crdt-bench/results/history.json).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ClassicLevel } from 'classic-level'
import * as Y from 'yjs'
import { createRelay, type Relay } from '../../relay/server/server.ts'
import { createLogger } from '../../relay/observability/logger.ts'
import { appendTokens, createMarker, type Token } from '../../editor/blocks/layout.ts'
import { BenchClient } from '../servers/bench-client.ts'
import { loadTrace } from '../sim/traces.ts'
import { mulberry32 } from '../../scripts/chaos/rng.ts'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const quick = process.argv.includes('--quick')
const reps = Number(arg('--reps') ?? 7)
const only = arg('--only')
const jsonPath = arg('--json') ?? 'crdt-bench/results/history.json'
const DOC_CHARS = quick ? 50_000 : 500_000
const VERSIONS = quick ? 40 : 200
const TRACE_TXNS = quick ? 40_000 : Infinity


async function startBenchRelay(data: string): Promise<Relay> {
  return createRelay(
    {
      host: '127.0.0.1', port: 0, data, logLevel: process.env.BENCH_LOG ?? 'silent', historyQuietMs: 60, historyMax: 0, historyKeepMs: 0,
      maxMessageBytes: 16 * 1024 * 1024, maxMessagesPerSecond: 1_000_000, maxBytesPerSecond: 1024 * 1024 * 1024, perIpExempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
    },
    { logger: createLogger(process.env.BENCH_LOG ?? 'silent'), integrations: false },
  )
}

async function versionIds(relay: Relay, room: string): Promise<string[]> {
  const res = await fetch(`${relay.httpUrl}/api/rooms/${room}/versions`)
  if (res.status === 404) return []
  return ((await res.json()) as { versions: Array<{ id: string }> }).versions.map((v) => v.id)
}

/** Waits (polling the API) until the room has a version newer than `newest`. */
async function waitVersion(relay: Relay, room: string, newest: string | undefined): Promise<string[]> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const ids = await versionIds(relay, room)
    if (ids.length > 0 && ids[0] !== newest) return ids
    if (Date.now() > deadline) throw new Error('no version recorded')
    await new Promise((r) => setTimeout(r, 15))
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timed(call: () => Promise<Response>): Promise<{ ms: number; bytes: number }> {
  const times: number[] = []
  let bytes = 0
  for (let i = 0; i < reps; i++) {
    const start = performance.now()
    const res = await call()
    const body = new Uint8Array(await res.arrayBuffer())
    times.push(performance.now() - start)
    if (res.status !== 200) throw new Error(`${res.status} ${new TextDecoder().decode(body)}`)
    bytes = body.byteLength
  }
  return { ms: median(times), bytes }
}

/** Sum of file sizes under `dir`. */
function du(dir: string): number {
  let total = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const st = statSync(path)
    total += st.isDirectory() ? du(path) : st.size
  }
  return total
}

/** Bytes of every record (key and value) in the history's LevelDB. */
async function historyBytes(dir: string): Promise<{ bytes: number; records: number; byKind: Record<string, number> }> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  let bytes = 0
  let records = 0
  const byKind: Record<string, number> = {}
  for await (const [key, value] of db.iterator()) {
    const size = Buffer.byteLength(key) + value.byteLength
    bytes += size
    records++
    byKind[key[0]!] = (byKind[key[0]!] ?? 0) + size
  }
  await db.close()
  return { bytes, records, byKind }
}

async function latency(): Promise<Record<string, unknown>> {
  const data = await mkdtemp(join(tmpdir(), 'tandem-bench-history-'))
  const relay = await startBenchRelay(data)
  const room = 'large'
  const api = `${relay.httpUrl}/api/rooms/${room}/versions`
  try {
    const writer = new BenchClient(relay.url, room, 'y-websocket')
    await writer.synced
    const text = writer.doc.getText('blocks')
    const random = mulberry32(27)
    const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', 'sed', 'do']
    const sentence = (chars: number): string => {
      let s = ''
      while (s.length < chars) s += words[Math.floor(random() * words.length)] + ' '
      return s.slice(0, chars)
    }
    const paragraphs = DOC_CHARS / 100
    const tokens: Token[] = []
    for (let i = 0; i < paragraphs; i++) {
      tokens.push({ kind: 'block', block: i % 20 === 0 ? { type: 'heading', attrs: { level: 2 }, parents: [] } : { type: 'paragraph', attrs: {}, parents: [] } })
      tokens.push({ kind: 'text', text: sentence(100), marks: i % 7 === 0 ? { strong: {} } : {} })
    }
    process.stderr.write(`bench:history latency: typing a ${DOC_CHARS}-character document, then ${VERSIONS} versions …\n`)
    appendTokens(text, tokens)
    let ids = await waitVersion(relay, room, undefined)
    while (ids.length < VERSIONS) {
      writer.doc.transact(() => {
        for (let e = 0; e < 50; e++) {
          const at = 1 + Math.floor(random() * (text.length - 1))
          const r = random()
          if (r < 0.6) text.insert(at, sentence(1 + Math.floor(random() * 12)))
          else if (r < 0.95) text.delete(at, Math.min(1 + Math.floor(random() * 15), text.length - at))
          else text.insert(at, createMarker({ type: 'paragraph', attrs: {}, parents: [] }) as never)
        }
      })
      ids = await waitVersion(relay, room, ids[0])
    }
    const [newest, middle, oldest] = [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids[ids.length - 1]!]
    const state = Y.encodeStateAsUpdate(writer.doc)
    const results: Record<string, unknown> = { documentChars: text.length, documentBytes: state.byteLength, versions: ids.length }
    results['list'] = await timed(() => fetch(api))
    results['previewNewest'] = await timed(() => fetch(`${api}/${newest}`))
    results['previewMiddle'] = await timed(() => fetch(`${api}/${middle}`))
    results['previewOldest'] = await timed(() => fetch(`${api}/${oldest}`))
    results['diffConsecutive'] = await timed(() => fetch(`${api}/${newest}/diff?from=${ids[1]}`))
    results['diffAll'] = await timed(() => fetch(`${api}/${newest}/diff?from=${oldest}`))
    // restore a middle version, then the version just before that restore; each timed once per rep
    const restores: number[] = []
    const back: number[] = []
    for (let i = 0; i < Math.min(reps, 5); i++) {
      let start = performance.now()
      const res = await fetch(`${api}/${middle}/restore`, { method: 'POST' })
      const body = (await res.json()) as { before: { id: string } | null; version: { id: string } }
      restores.push(performance.now() - start)
      const current = (await versionIds(relay, room))[1]!
      start = performance.now()
      const res2 = await fetch(`${api}/${body.before?.id ?? current}/restore`, { method: 'POST' })
      await res2.arrayBuffer()
      back.push(performance.now() - start)
      if (res.status !== 200 || res2.status !== 200) throw new Error('restore failed')
    }
    results['restore'] = { ms: median(restores) }
    results['restoreBack'] = { ms: median(back) }
    writer.close()
    await relay.close()
    results['history'] = await historyBytes(join(data, 'history'))
    return results
  } finally {
    await relay.close().catch(() => undefined)
    await rm(data, { recursive: true, force: true })
  }
}

type Patch = readonly [number, number, string]

async function disk(): Promise<Record<string, unknown>> {
  const trace = loadTrace('automerge-paper')
  const txns = trace.txns.slice(0, Math.min(TRACE_TXNS, trace.txns.length)).map((t) => t.patches as readonly Patch[])
  const data = await mkdtemp(join(tmpdir(), 'tandem-bench-history-disk-'))
  const relay = await startBenchRelay(data)
  const room = 'paper'
  try {
    const writer = new BenchClient(relay.url, room, 'y-websocket')
    await writer.synced
    const text = writer.doc.getText('blocks')
    // the editor's layout: one paragraph marker, then the trace's text (positions after it)
    text.insert(0, createMarker({ type: 'paragraph', attrs: {}, parents: [] }) as never)
    process.stderr.write(`bench:history disk: typing ${txns.length} edits of automerge-paper through the relay, a version every 1,000 …\n`)
    let newest: string | undefined
    const start = performance.now()
    for (let i = 0; i < txns.length; i++) {
      writer.doc.transact(() => {
        for (const [pos, del, ins] of txns[i]!) {
          if (del > 0) text.delete(pos + 1, del)
          if (ins.length > 0) text.insert(pos + 1, ins)
        }
      })
      if (i % 200 === 199) await new Promise((r) => setImmediate(r))
      if (i % 1000 === 999 || i === txns.length - 1) newest = (await waitVersion(relay, room, newest))[0]
    }
    const typingMs = performance.now() - start
    const versions = (await versionIds(relay, room)).length
    const live = new Uint8Array(await (await fetch(`${relay.httpUrl}/api/rooms/${room}/update`)).arrayBuffer())
    writer.close()
    await relay.close()
    const history = await historyBytes(join(data, 'history'))
    const historyDisk = du(join(data, 'history'))
    // reference: every character ever typed, kept (a doc that never collects garbage)
    const whole = new Y.Doc({ gc: false })
    const wholeText = whole.getText('blocks')
    wholeText.insert(0, createMarker({ type: 'paragraph', attrs: {}, parents: [] }) as never)
    for (const patches of txns) {
      whole.transact(() => {
        for (const [pos, del, ins] of patches) {
          if (del > 0) wholeText.delete(pos + 1, del)
          if (ins.length > 0) wholeText.insert(pos + 1, ins)
        }
      })
    }
    const fullCopy = Y.encodeStateAsUpdate(whole).byteLength
    return {
      edits: txns.length, versions, typingMs, liveBytes: live.byteLength,
      historyBytes: history.bytes, historyRecords: history.records, historyByKind: history.byKind, historyDiskBytes: historyDisk,
      overhead: history.bytes / live.byteLength, diskOverhead: historyDisk / live.byteLength,
      fullCopyBytes: fullCopy, fullCopyOverhead: fullCopy / live.byteLength,
    }
  } finally {
    await relay.close().catch(() => undefined)
    await rm(data, { recursive: true, force: true })
  }
}

const out: Record<string, unknown> = { quick, reps, date: new Date().toISOString() }
if (only !== 'disk') out['latency'] = await latency()
if (only !== 'latency') out['disk'] = await disk()

const ms = (x: unknown): string => `${((x as { ms: number }).ms).toFixed(1)} ms`
console.log(`\nbench:history${quick ? ' --quick' : ''} (median of ${reps})\n`)
if (out['latency']) {
  const l = out['latency'] as Record<string, unknown>
  console.log(`document: ${l['documentChars']} units (${l['documentBytes']} bytes as one update), ${l['versions']} versions\n`)
  console.log('| operation | time |')
  console.log('|---|---:|')
  for (const [key, label] of [
    ['list', 'list versions'], ['previewNewest', 'preview, newest'], ['previewMiddle', 'preview, middle'], ['previewOldest', 'preview, oldest'],
    ['diffConsecutive', 'diff, consecutive versions'], ['diffAll', 'diff, oldest → newest'], ['restore', 'restore a middle version'], ['restoreBack', 'restore the version before that restore'],
  ] as const) console.log(`| ${label} | ${ms(l[key])} |`)
  const h = l['history'] as { bytes: number }
  console.log(`\nhistory records: ${h.bytes} bytes\n`)
}
if (out['disk']) {
  const d = out['disk'] as Record<string, number>
  console.log(`automerge-paper: ${d['edits']} edits, ${d['versions']} versions, typed in ${(d['typingMs']! / 1000).toFixed(1)} s`)
  console.log('| | bytes | × live document |')
  console.log('|---|---:|---:|')
  console.log(`| live document | ${d['liveBytes']} | 1.00 |`)
  console.log(`| history records | ${d['historyBytes']} | ${d['overhead']!.toFixed(2)} |`)
  console.log(`| history directory on disk | ${d['historyDiskBytes']} | ${d['diskOverhead']!.toFixed(2)} |`)
  console.log(`| every character kept (gc off) | ${d['fullCopyBytes']} | ${d['fullCopyOverhead']!.toFixed(2)} |`)
}
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify(out, null, 2))
console.log(`\nwritten ${jsonPath}`)
process.exit(0)
