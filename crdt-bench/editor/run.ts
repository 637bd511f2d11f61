/**
 * `npm run bench:editor`: the editor's speed in real Chromium against tandem's relay on
 * loopback (LevelDB storage; the relay serves the demo page).
 *
 * 1. Keystroke-to-remote-render latency: page A types 500 keys one at a time; for each, the
 *    time from A's keydown to page B's editor DOM holding the new character (both pages in
 *    one browser, one clock). Measured in an empty document and in a 50,000-character one.
 * 2. Local cost per keystroke in a 50,000-character document: keydown to the Yjs update it
 *    produces (ProseMirror transaction + y-prosemirror diff + Yjs encode + socket send).
 * 3. Keystroke cost against ProseMirror alone at 50k and 500k characters: main-thread time of
 *    one typed character (p50) in tandem's editor and in ProseMirror without collaboration,
 *    same document, same Chromium, printed as a ratio (target < 1.5x). See keystroke-cost.ts.
 *    BENCH_COST_KEYS sets the keys per mode and size (default 200).
 *
 * Prints a table and writes crdt-bench/results/editor.json.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import type { Browser, Page } from 'playwright-core'
import { buildEditor } from '../../editor/build.ts'
import { startTestRelay } from '../../test/e2e/relay.ts'
import { launchChromium } from '../../test/e2e/chromium.ts'
import { installKeydownProbe, installRenderProbe, installLocalCostProbe } from './page-probes.ts'
import { measureKeystrokeCost } from './keystroke-cost.ts'

const KEYSTROKES = Number(process.env['BENCH_KEYSTROKES'] ?? 500)
const WARMUP = 20
const LARGE_CHARS = 50_000
const COST_KEYS = Number(process.env['BENCH_COST_KEYS'] ?? 200)
const COST_SIZES = [50_000, 500_000]
const COST_TARGET = 1.5

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

async function openPage(browser: Browser, base: string, relayUrl: string, room: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  const page = await context.newPage()
  const q = new URLSearchParams({ room, relay: relayUrl, name, color: name === 'A' ? '#e11d48' : '#2563eb', welcome: '0' })
  await page.goto(`${base}/?${q}`)
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-state') === 'connected')
  await page.waitForSelector('body[data-synced="true"]')
  return page
}

/** Fills the document with `chars` characters in paragraphs of 100, through the editor. */
async function fillDocument(page: Page, chars: number): Promise<void> {
  await page.evaluate((total) => {
    const view = window.tandem!.editor.view
    const { schema } = view.state
    const line = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '.repeat(2).slice(0, 100)
    const paragraphs = []
    for (let i = 0; i < total / 100; i++) paragraphs.push(schema.node('paragraph', null, [schema.text(line)]))
    view.dispatch(view.state.tr.replaceWith(0, view.state.doc.content.size, paragraphs))
  }, chars)
}

/** Types `count` keys into `sender` one at a time; returns the remote render latency of each. */
async function measureLatency(sender: Page, receiver: Page, count: number): Promise<number[]> {
  await sender.evaluate(installKeydownProbe)
  await receiver.evaluate(installRenderProbe)
  const start = await receiver.evaluate(() => window.tandem!.editor.view.state.doc.textContent.length)
  const keys = 'abcdefghijklmnopqrstuvwxyz'
  for (let i = 1; i <= count; i++) {
    await sender.keyboard.press(keys[i % keys.length]!)
    await receiver.waitForFunction((n) => (window as unknown as { __renders: Map<number, number> }).__renders.has(n), start + i, {
      polling: 'raf',
    })
  }
  const downs = await sender.evaluate(() => (window as unknown as { __keydowns: number[] }).__keydowns)
  const renders = await receiver.evaluate(() => [...(window as unknown as { __renders: Map<number, number> }).__renders])
  const renderAt = new Map(renders)
  return downs.map((t, i) => (renderAt.get(start + i + 1) ?? NaN) - t).slice(WARMUP)
}

async function main(): Promise<void> {
  await buildEditor()
  // tandem's relay (LevelDB in a temp dir), which also serves the demo page at `/`.
  const testRelay = await startTestRelay()
  const relay = { url: testRelay.url, httpUrl: testRelay.httpUrl, close: () => testRelay.dispose() }
  const browser = await launchChromium()
  try {
    const base = relay.httpUrl
    // 1. Empty document.
    const a = await openPage(browser, base, relay.url, 'bench-latency', 'A')
    const b = await openPage(browser, base, relay.url, 'bench-latency', 'B')
    await a.locator('.ProseMirror').click()
    const emptyLatency = summarize(await measureLatency(a, b, KEYSTROKES + WARMUP))

    // 2. 50,000-character document: remote latency and local cost, typing mid-document.
    const la = await openPage(browser, base, relay.url, 'bench-large', 'A')
    const lb = await openPage(browser, base, relay.url, 'bench-large', 'B')
    await fillDocument(la, LARGE_CHARS)
    await lb.waitForFunction((n) => window.tandem!.editor.view.state.doc.textContent.length >= n, LARGE_CHARS)
    await la.locator('.ProseMirror p').nth(LARGE_CHARS / 200).click()
    await la.evaluate(installLocalCostProbe)
    const largeLatency = summarize(await measureLatency(la, lb, KEYSTROKES + WARMUP))
    const costs = await la.evaluate(() => (window as unknown as { __costs: number[] }).__costs)
    const localCost = summarize(costs.slice(WARMUP))
    for (const p of [a, b, la, lb]) await p.context().close()

    // 3. tandem's editor vs ProseMirror alone.
    const vsProseMirror = await measureKeystrokeCost(browser, relay.url, COST_SIZES, COST_KEYS)

    const results = {
      benchmark: 'editor',
      date: new Date().toISOString(),
      environment: {
        node: process.version,
        chromium: browser.version(),
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
      },
      keystrokes: KEYSTROKES,
      unit: 'ms',
      remoteRenderLatency: { emptyDocument: emptyLatency, largeDocument: largeLatency },
      localKeystrokeCost: { largeDocument: localCost },
      keystrokeCostVsProseMirror: { unit: 'ms main-thread time per key, p50', target: COST_TARGET, sizes: vsProseMirror },
      largeDocumentChars: LARGE_CHARS,
      targets: { remoteRenderP99: 50, localKeystrokeP99: 16 },
    }
    const rows: [string, Summary, number][] = [
      ['keystroke → remote render, empty doc', emptyLatency, 50],
      [`keystroke → remote render, ${LARGE_CHARS / 1000}k-char doc`, largeLatency, 50],
      [`keystroke local cost, ${LARGE_CHARS / 1000}k-char doc`, localCost, 16],
    ]
    const out: string[] = []
    out.push(`tandem editor benchmark — Chromium ${browser.version()}, ${KEYSTROKES} keystrokes per row, loopback relay`)
    out.push('')
    out.push('| measurement | n | p50 ms | p99 ms | mean ms | max ms | target p99 |')
    out.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const [label, s, goal] of rows) {
      out.push(`| ${label} | ${s.n} | ${s.p50} | ${s.p99} | ${s.mean} | ${s.max} | < ${goal} ${s.p99 < goal ? '✓' : '✗'} |`)
    }
    out.push('')
    out.push(`keystroke cost vs ProseMirror alone (main-thread ms per typed character, p50, ${COST_KEYS} keys per cell)`)
    out.push('')
    out.push('| document | ProseMirror alone | tandem editor | ratio | target |')
    out.push('|---|---:|---:|---:|---:|')
    for (const c of vsProseMirror) {
      const ok = c.ratio < COST_TARGET ? '✓' : '✗'
      out.push(`| ${c.chars / 1000}k chars | ${c.prosemirrorP50} | ${c.tandemP50} | ${c.ratio}x | < ${COST_TARGET}x ${ok} |`)
    }
    process.stdout.write(out.join('\n') + '\n')
    await mkdir('crdt-bench/results', { recursive: true })
    await writeFile('crdt-bench/results/editor.json', JSON.stringify(results, null, 2) + '\n')
    process.stdout.write('wrote crdt-bench/results/editor.json\n')
  } finally {
    await browser.close()
    await relay.close()
  }
}

await main()
