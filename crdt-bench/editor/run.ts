/**
 * `npm run bench:editor`: the editor's costs, both document layouts in the same run: `blocks`
 * (the default: the whole document in one Y.Text with block markers) and `y-prosemirror` (the
 * tree of XML elements of y-prosemirror), against ProseMirror alone. Chromium is Debian's
 * (CHROMIUM_PATH), driven over CDP; the rooms live on tandem's relay on loopback (LevelDB in a
 * temp dir), which also serves the pages (`pages.ts`). Another user (a Node peer) is in every
 * room with a cursor in the document.
 *
 * 1. Typed character, main-thread time per key (p50) at 50k and 500k characters, in Chromium
 *    (ProseMirror alone, the editor on a bare page, the demo page as users see it; the ratio of
 *    each to ProseMirror alone, target < 1.5x for the demo page on the block layout) and headless
 *    (the same plugins in Node without rendering): `keystroke-cost.ts`, `headless.ts`. Chromium
 *    rows come twice: task time (wall clock, Chrome's `TaskDuration`) and the main thread's CPU
 *    time (`ThreadTime`). On a 2-core machine the relay and the peer run beside the browser and
 *    take a core while an editor page's key is measured (ProseMirror alone sends nothing), which
 *    the wall clock counts against the editor; the CPU time is what the page itself spent. Rows
 *    "with what follows" measure blocks of 5 keys until the page is quiet again (the relay has
 *    acknowledged them as stored), so work a key causes after its frame is counted too.
 * 2. Remote character: main-thread time to apply one character another user typed (and show
 *    their moved cursor), both sizes, Chromium and headless.
 * 3. Opening a 500k-character room: Chromium (fresh profile, from `mountEditor` to the whole
 *    document shown) and headless (from the encoded room to the first editor state).
 * 4. Bytes of the Yjs update of one typed character.
 * 5. A real editing trace (automerge-paper, 259,778 edits by one writer) typed through the
 *    binding headless: encoded document size and the sum of its updates, beside the same trace
 *    written straight into one Y.Text.
 * 6. Keystroke → remote render latency on the demo page (two pages, one browser, one clock), in
 *    an empty and a 50k-character document, and keydown → Yjs update on the sender.
 *
 * Environment: BENCH_COST_KEYS (typed keys per page and size, default 200), BENCH_REMOTE_KEYS
 * (default 100), BENCH_KEYSTROKES (latency keys per row, default 500), BENCH_TRACE_EDITS (trace
 * prefix, default the whole trace). Prints tables and writes crdt-bench/results/editor.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../../test/e2e/chromium.ts'
import { installKeydownProbe, installRenderProbe, installLocalCostProbe } from './page-probes.ts'
import { measureChromiumCosts, measureOpen, type ChromiumCosts } from './keystroke-cost.ts'
import { measureHeadless, replayTrace, type HeadlessCosts, type TraceReplay } from './headless.ts'
import { openDemoPage, startBenchSite, type BenchSite } from './pages.ts'
import type { Layout } from './peer.ts'

const KEYSTROKES = Number(process.env['BENCH_KEYSTROKES'] ?? 500)
const COST_KEYS = Number(process.env['BENCH_COST_KEYS'] ?? 200)
const REMOTE_KEYS = Number(process.env['BENCH_REMOTE_KEYS'] ?? 100)
const TRACE_EDITS = Number(process.env['BENCH_TRACE_EDITS'] ?? Infinity)
const WARMUP = 20
const LATENCY_CHARS = 50_000
const SIZES = [50_000, 500_000]
const OPEN_CHARS = 500_000
const DEMO_TARGET = 1.5
const LAYOUTS: Layout[] = ['blocks', 'y-prosemirror']

interface Summary {
  n: number
  p50: number
  p99: number
  mean: number
  max: number
}

function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
  const round = (x: number): number => Math.round(x * 100) / 100
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    mean: round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    max: round(sorted[sorted.length - 1] ?? NaN),
  }
}

const progress = (msg: string): boolean => process.stderr.write(`bench:editor: ${msg}\n`)

/** Types `count` keys into `sender` one at a time; returns the remote render latency of each. */
async function measureLatency(sender: Page, receiver: Page, count: number): Promise<number[]> {
  await sender.evaluate(installKeydownProbe)
  await receiver.evaluate(installRenderProbe)
  const start = await receiver.evaluate(() => window.tandem!.editor.view.state.doc.textContent.length)
  const keys = 'abcdefghijklmnopqrstuvwxyz'
  for (let i = 1; i <= count; i++) {
    await sender.keyboard.press(keys[i % keys.length]!)
    await receiver.waitForFunction((n) => (window as unknown as { __renders: Map<number, number> }).__renders.has(n), start + i, { polling: 'raf' })
  }
  const downs = await sender.evaluate(() => (window as unknown as { __keydowns: number[] }).__keydowns)
  const renders = await receiver.evaluate(() => [...(window as unknown as { __renders: Map<number, number> }).__renders])
  const renderAt = new Map(renders)
  return downs.map((t, i) => (renderAt.get(start + i + 1) ?? NaN) - t).slice(WARMUP)
}

interface LatencyResult {
  emptyDocument: Summary
  largeDocument: Summary
  localCost: Summary
}

/** Latency rows on the demo page in `layout`: empty room, then a 50k-character one. */
async function latency(browser: Browser, site: BenchSite, layout: Layout): Promise<LatencyResult> {
  const tag = `${layout}-${process.pid}`
  const a = await openDemoPage(browser, site.httpUrl, site.relayUrl, `bench-latency-${tag}`, layout, { name: 'A', color: '#e11d48' })
  const b = await openDemoPage(browser, site.httpUrl, site.relayUrl, `bench-latency-${tag}`, layout, { name: 'B', color: '#2563eb' })
  await a.page.locator('.ProseMirror').click()
  const emptyDocument = summarize(await measureLatency(a.page, b.page, KEYSTROKES + WARMUP))
  const la = await openDemoPage(browser, site.httpUrl, site.relayUrl, `bench-large-${tag}`, layout, { name: 'A', color: '#e11d48' }, LATENCY_CHARS)
  const lb = await openDemoPage(browser, site.httpUrl, site.relayUrl, `bench-large-${tag}`, layout, { name: 'B', color: '#2563eb' })
  await lb.page.waitForFunction((n) => window.tandem!.editor.view.state.doc.textContent.length >= n, LATENCY_CHARS, { timeout: 60_000 })
  await la.page.locator('.ProseMirror p').nth(LATENCY_CHARS / 200).click()
  await la.page.evaluate(installLocalCostProbe)
  const largeDocument = summarize(await measureLatency(la.page, lb.page, KEYSTROKES + WARMUP))
  const costs = await la.page.evaluate(() => (window as unknown as { __costs: number[] }).__costs)
  for (const p of [a, b, la, lb]) await p.page.context().close()
  return { emptyDocument, largeDocument, localCost: summarize(costs.slice(WARMUP)) }
}

const x = (a: number, b: number): string => `${(a / b).toFixed(2)}x`
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))

function tables(chromium: ChromiumCosts[], headless: HeadlessCosts[], open: Record<Layout, number>, traces: TraceReplay[], lat: Record<Layout, LatencyResult>): string {
  const out: string[] = []
  const [c50, c500] = chromium as [ChromiumCosts, ChromiumCosts]
  const [h50, h500] = headless as [HeadlessCosts, HeadlessCosts]
  const size = (c: { chars: number }): string => `${c.chars / 1000}k chars`
  out.push(`Typed character: main-thread ms per key (p50) and ratio to ProseMirror alone; Chromium ${COST_KEYS} keys per page and size (task time, wall clock; CPU: the main thread's CPU time), headless ${h50.keys}`)
  out.push('')
  out.push(`| page | ${size(c50)} | ratio | ${size(c500)} | ratio |`)
  out.push('|---|---:|---:|---:|---:|')
  const row = (label: string, a: number, a0: number, b: number, b0: number, target?: number): void => {
    const mark = (r: number): string => (target === undefined ? '' : r < target ? ' ✓' : ' ✗')
    out.push(`| ${label} | ${ms(a)} | ${x(a, a0)}${mark(a / a0)} | ${ms(b)} | ${x(b, b0)}${mark(b / b0)} |`)
  }
  const t50 = c50.typed
  const t500 = c500.typed
  row('Chromium: ProseMirror alone', t50.prosemirror.task, t50.prosemirror.task, t500.prosemirror.task, t500.prosemirror.task)
  row('Chromium: editor, blocks', t50.blocks.task, t50.prosemirror.task, t500.blocks.task, t500.prosemirror.task)
  row('Chromium: editor, y-prosemirror', t50['y-prosemirror'].task, t50.prosemirror.task, t500['y-prosemirror'].task, t500.prosemirror.task)
  row(`Chromium: demo page, blocks (target < ${DEMO_TARGET}x)`, t50['demo blocks'].task, t50.prosemirror.task, t500['demo blocks'].task, t500.prosemirror.task, DEMO_TARGET)
  row('Chromium: demo page, y-prosemirror', t50['demo y-prosemirror'].task, t50.prosemirror.task, t500['demo y-prosemirror'].task, t500.prosemirror.task)
  row('Chromium CPU: ProseMirror alone', t50.prosemirror.thread, t50.prosemirror.thread, t500.prosemirror.thread, t500.prosemirror.thread)
  row('Chromium CPU: editor, blocks', t50.blocks.thread, t50.prosemirror.thread, t500.blocks.thread, t500.prosemirror.thread)
  row('Chromium CPU: editor, y-prosemirror', t50['y-prosemirror'].thread, t50.prosemirror.thread, t500['y-prosemirror'].thread, t500.prosemirror.thread)
  row(`Chromium CPU: demo page, blocks (target < ${DEMO_TARGET}x)`, t50['demo blocks'].thread, t50.prosemirror.thread, t500['demo blocks'].thread, t500.prosemirror.thread, DEMO_TARGET)
  row('Chromium CPU: demo page, y-prosemirror', t50['demo y-prosemirror'].thread, t50.prosemirror.thread, t500['demo y-prosemirror'].thread, t500.prosemirror.thread)
  const w50 = c50.typedWithAfter
  const w500 = c500.typedWithAfter
  row('Chromium CPU with what follows: ProseMirror alone', w50.prosemirror.thread, w50.prosemirror.thread, w500.prosemirror.thread, w500.prosemirror.thread)
  row('Chromium CPU with what follows: editor, blocks', w50.blocks.thread, w50.prosemirror.thread, w500.blocks.thread, w500.prosemirror.thread)
  row(`Chromium CPU with what follows: demo page, blocks (target < ${DEMO_TARGET}x)`, w50['demo blocks'].thread, w50.prosemirror.thread, w500['demo blocks'].thread, w500.prosemirror.thread, DEMO_TARGET)
  row('Chromium CPU with what follows: demo page, y-prosemirror', w50['demo y-prosemirror'].thread, w50.prosemirror.thread, w500['demo y-prosemirror'].thread, w500.prosemirror.thread)
  row(`Chromium task with what follows: demo page, blocks (target < ${DEMO_TARGET}x)`, w50['demo blocks'].task, w50.prosemirror.task, w500['demo blocks'].task, w500.prosemirror.task, DEMO_TARGET)
  row('headless: ProseMirror alone', h50.typed.prosemirror, h50.typed.prosemirror, h500.typed.prosemirror, h500.typed.prosemirror)
  row('headless: blocks', h50.typed.blocks, h50.typed.prosemirror, h500.typed.blocks, h500.typed.prosemirror)
  row('headless: y-prosemirror', h50.typed['y-prosemirror'], h50.typed.prosemirror, h500.typed['y-prosemirror'], h500.typed.prosemirror)
  out.push('')
  out.push(`Remote character (another user's keystroke and cursor move applied): main-thread ms (p50), ${c50.remote.blocks ? REMOTE_KEYS : 0} per page and size`)
  out.push('')
  out.push(`| page | ${size(c50)} | ratio | ${size(c500)} | ratio |`)
  out.push('|---|---:|---:|---:|---:|')
  row('Chromium: ProseMirror alone (the same change, scripted)', c50.remote.prosemirror.task, c50.remote.prosemirror.task, c500.remote.prosemirror.task, c500.remote.prosemirror.task)
  row('Chromium: editor, blocks', c50.remote.blocks.task, c50.remote.prosemirror.task, c500.remote.blocks.task, c500.remote.prosemirror.task)
  row('Chromium: editor, y-prosemirror', c50.remote['y-prosemirror'].task, c50.remote.prosemirror.task, c500.remote['y-prosemirror'].task, c500.remote.prosemirror.task)
  row('Chromium CPU: ProseMirror alone (the same change, scripted)', c50.remote.prosemirror.thread, c50.remote.prosemirror.thread, c500.remote.prosemirror.thread, c500.remote.prosemirror.thread)
  row('Chromium CPU: editor, blocks', c50.remote.blocks.thread, c50.remote.prosemirror.thread, c500.remote.blocks.thread, c500.remote.prosemirror.thread)
  row('Chromium CPU: editor, y-prosemirror', c50.remote['y-prosemirror'].thread, c50.remote.prosemirror.thread, c500.remote['y-prosemirror'].thread, c500.remote.prosemirror.thread)
  row('headless: ProseMirror alone (the same change)', h50.remote.prosemirror, h50.remote.prosemirror, h500.remote.prosemirror, h500.remote.prosemirror)
  row('headless: blocks', h50.remote.blocks, h50.remote.prosemirror, h500.remote.blocks, h500.remote.prosemirror)
  row('headless: y-prosemirror', h50.remote['y-prosemirror'], h50.remote.prosemirror, h500.remote['y-prosemirror'], h500.remote.prosemirror)
  out.push('')
  out.push(`Opening a ${OPEN_CHARS / 1000}k-character room (ms, median of 3), bytes of the Yjs update of one typed character (p50 / mean)`)
  out.push('')
  const h500open = headless.find((h) => h.chars === OPEN_CHARS) ?? h500
  out.push('| layout | open, Chromium | open, headless | update bytes per key |')
  out.push('|---|---:|---:|---:|')
  for (const layout of LAYOUTS) {
    out.push(`| ${layout} | ${ms(open[layout])} | ${ms(h500open.open[layout])} | ${h50.updateBytes[layout]} / ${h50.updateBytesMean[layout]} |`)
  }
  out.push('')
  const raw = (traces as (TraceReplay & { layout: string })[]).find((t) => t.layout === 'raw')
  out.push(`Editing trace ${traces[0]?.trace} (${traces[0]?.edits.toLocaleString('en')} edits, one writer) typed through the binding headless`)
  out.push('')
  out.push('| written by | text matches | encoded document bytes | vs one Y.Text | sum of updates bytes | time s |')
  out.push('|---|---|---:|---:|---:|---:|')
  for (const t of traces as (TraceReplay & { layout: string })[]) {
    const label = t.layout === 'raw' ? 'Y.Text.insert/delete (no editor)' : `editor binding, ${t.layout}`
    out.push(`| ${label} | ${t.matches ? 'yes' : 'NO'} | ${t.docBytes.toLocaleString('en')} | ${raw ? x(t.docBytes, raw.docBytes) : ''} | ${t.updateBytes.toLocaleString('en')} | ${(t.ms / 1000).toFixed(1)} |`)
  }
  out.push('')
  out.push(`Keystroke → remote render on the demo page (ms; ${KEYSTROKES} keys per row, two pages, loopback relay)`)
  out.push('')
  out.push('| measurement | layout | p50 | p99 | mean | max |')
  out.push('|---|---|---:|---:|---:|---:|')
  for (const layout of LAYOUTS) {
    const l = lat[layout]
    out.push(`| keystroke → remote render, empty doc | ${layout} | ${l.emptyDocument.p50} | ${l.emptyDocument.p99} | ${l.emptyDocument.mean} | ${l.emptyDocument.max} |`)
    out.push(`| keystroke → remote render, ${LATENCY_CHARS / 1000}k-char doc | ${layout} | ${l.largeDocument.p50} | ${l.largeDocument.p99} | ${l.largeDocument.mean} | ${l.largeDocument.max} |`)
    out.push(`| keydown → Yjs update (sender), ${LATENCY_CHARS / 1000}k-char doc | ${layout} | ${l.localCost.p50} | ${l.localCost.p99} | ${l.localCost.mean} | ${l.localCost.max} |`)
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const site = await startBenchSite()
  const browser = await launchChromium()
  try {
    const chromium: ChromiumCosts[] = []
    for (const chars of SIZES) {
      progress(`Chromium, typed and remote keys at ${chars / 1000}k characters`)
      chromium.push(await measureChromiumCosts(browser, site, chars, COST_KEYS, REMOTE_KEYS, WARMUP))
    }
    progress(`Chromium, opening a ${OPEN_CHARS / 1000}k-character room`)
    const open = await measureOpen(browser, site, OPEN_CHARS)
    const lat = {} as Record<Layout, LatencyResult>
    for (const layout of LAYOUTS) {
      progress(`Chromium, keystroke → remote render, ${layout}`)
      lat[layout] = await latency(browser, site, layout)
    }
    const chromiumVersion = browser.version()
    await browser.close()
    const headless: HeadlessCosts[] = []
    for (const chars of SIZES) {
      progress(`headless at ${chars / 1000}k characters`)
      headless.push(measureHeadless(chars, COST_KEYS, REMOTE_KEYS, WARMUP))
    }
    const traces: (TraceReplay & { layout: string })[] = []
    for (const layout of ['raw', ...LAYOUTS] as const) {
      progress(`trace automerge-paper, ${layout}`)
      traces.push({ ...replayTrace('automerge-paper', layout, TRACE_EDITS), layout })
    }
    const results = {
      benchmark: 'editor',
      date: new Date().toISOString(),
      environment: { node: process.version, chromium: chromiumVersion, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown' },
      unit: 'ms',
      settings: { costKeys: COST_KEYS, remoteKeys: REMOTE_KEYS, keystrokes: KEYSTROKES, traceEdits: TRACE_EDITS, demoTarget: DEMO_TARGET },
      chromium,
      headless,
      open: { chars: OPEN_CHARS, chromium: open },
      traces,
      latency: lat,
    }
    process.stdout.write(`tandem editor benchmark — Chromium ${chromiumVersion}, Node ${process.version}, ${availableParallelism()} cores\n\n`)
    process.stdout.write(tables(chromium, headless, open, traces, lat) + '\n')
    await mkdir('crdt-bench/results', { recursive: true })
    await writeFile('crdt-bench/results/editor.json', JSON.stringify(results, null, 2) + '\n')
    process.stdout.write('wrote crdt-bench/results/editor.json\n')
  } finally {
    if (browser.isConnected()) await browser.close()
    await site.close()
  }
}

await main()
