/**
 * The pages the editor benchmark drives, built and served once per run:
 * - `/` (index.html): the demo page, built from editor/demo exactly as `editor/build.ts` builds
 *   it for the relay (same entry, same esbuild options), so it is the page users see;
 * - `/bench.html`: `keystroke-page.ts`, one editor (or ProseMirror alone) on a bare page.
 * Both are served by a tandem relay (LevelDB in a temp dir) that is also the rooms' relay, so
 * the demo gets its token from `/api/token` as it does on `npm start`.
 * `minify: false` builds readable bundles for the profiler (`profile-page.ts`).
 */
import * as esbuild from 'esbuild'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { startRelay } from '../../test/fixtures/index.ts'
import type { BenchMountOptions } from './keystroke-page.ts'
import type { Layout } from './peer.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..')

const BENCH_HTML = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="tandem-editor.css"><script type="module" src="keystroke-page.js"></script>
</head><body><div id="editor"></div></body></html>`

/** The built pages and the relay serving them. */
export interface BenchSite {
  /** `ws://127.0.0.1:<port>`: the relay of every room. */
  relayUrl: string
  /** `http://127.0.0.1:<port>`. */
  httpUrl: string
  /** The same server under another site name (`localhost`): a page there gets its own renderer process. */
  otherSiteUrl: string
  /** The directory the pages were built into (bundles, for the profiler's source map). */
  dir: string
  close(): Promise<void>
}

/** Builds the demo and the bench page into a temp dir and starts a relay serving them. */
export async function startBenchSite(options: { minify?: boolean } = {}): Promise<BenchSite> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-editor-'))
  const common: esbuild.BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'warning',
  }
  await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(root, 'editor', 'demo', 'demo.ts')], outfile: join(dir, 'demo.js') }),
    esbuild.build({ ...common, entryPoints: [join(here, 'keystroke-page.ts')], outfile: join(dir, 'keystroke-page.js') }),
    copyFile(join(root, 'editor', 'editor.css'), join(dir, 'tandem-editor.css')),
    copyFile(join(root, 'editor', 'demo', 'index.html'), join(dir, 'index.html')),
    copyFile(join(root, 'editor', 'demo', 'demo.css'), join(dir, 'demo.css')),
    writeFile(join(dir, 'bench.html'), BENCH_HTML),
  ])
  const relay = await startRelay({ static: dir })
  return {
    relayUrl: relay.url,
    httpUrl: relay.httpUrl,
    otherSiteUrl: relay.httpUrl.replace('127.0.0.1', 'localhost'),
    dir,
    async close() {
      await relay.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A page with a CDP session reading its renderer's main-thread metrics. */
export interface MeasuredPage {
  page: Page
  cdp: CDPSession
}

async function newMeasuredPage(browser: Browser, label: string): Promise<MeasuredPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  const page = await context.newPage()
  // functions passed to page.evaluate are compiled by tsx, which wraps named inner functions in
  // `__name(...)`: give the page that helper
  await page.addInitScript({ content: 'globalThis.__name = (f) => f' })
  page.on('pageerror', (err) => process.stderr.write(`[${label}] page error: ${err.message}\n`))
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  return { page, cdp }
}

/** Opens `bench.html` at `base` and mounts what `options` asks for. */
export async function openBenchPage(browser: Browser, base: string, options: BenchMountOptions): Promise<MeasuredPage> {
  const p = await newMeasuredPage(browser, options.mode)
  await p.page.goto(`${base}/bench.html`)
  await p.page.waitForFunction(() => typeof window.benchMount === 'function')
  await p.page.evaluate((o) => window.benchMount!(o), options)
  return p
}

/**
 * Opens the demo page at `base` for `room` in `layout` (a fresh profile: no IndexedDB copy),
 * waits until it is connected and synced, and, when `chars` is given and the room is empty, fills
 * it with `chars` characters in paragraphs of 100 through the editor.
 */
export async function openDemoPage(
  browser: Browser,
  base: string,
  relayUrl: string,
  room: string,
  layout: Layout,
  user: { name: string; color: string },
  chars = 0,
): Promise<MeasuredPage> {
  const p = await newMeasuredPage(browser, `demo ${layout} ${user.name}`)
  const q = new URLSearchParams({ room, relay: relayUrl, name: user.name, color: user.color, welcome: '0', layout })
  await p.page.goto(`${base}/?${q}`)
  await p.page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-state') === 'connected', null, { timeout: 60_000 })
  await p.page.waitForSelector('body[data-synced="true"]', { timeout: 60_000 })
  if (chars > 0) {
    await p.page.evaluate((total) => {
      const view = window.tandem!.editor.view
      if (view.state.doc.textContent.length >= total) return
      const { schema } = view.state
      const line = 'The quick brown fox jumps over the lazy dog while tandem keeps every write. '.repeat(2).slice(0, 100)
      const paragraphs = []
      for (let i = 0; i < total / 100; i++) paragraphs.push(schema.node('paragraph', null, [schema.text(line)]))
      view.dispatch(view.state.tr.replaceWith(0, view.state.doc.content.size, paragraphs))
    }, chars)
    await p.page.waitForFunction(() => window.tandem!.editor.saved === 'saved', null, { timeout: 120_000 })
  }
  return p
}

/** Puts the caret at the end of the middle paragraph of the page's editor and focuses it. */
export async function caretInTheMiddle(p: MeasuredPage): Promise<void> {
  await p.page.evaluate(() => {
    const view = window.tandem?.editor.view ?? window.benchView!
    const doc = view.state.doc
    let pos = 0
    for (let i = 0; i < Math.floor(doc.childCount / 2); i++) pos += doc.child(i).nodeSize
    pos += doc.child(Math.floor(doc.childCount / 2)).nodeSize - 1
    const Selection = view.state.selection.constructor as unknown as { near(p: unknown): typeof view.state.selection }
    view.dispatch(view.state.tr.setSelection(Selection.near(view.state.doc.resolve(pos))))
    view.focus()
  })
}

/** The renderer's main-thread metrics (seconds): all tasks, script, layout, style. */
export async function mainThreadMetrics(cdp: CDPSession): Promise<{ task: number; script: number; layout: number; style: number; thread: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN
  return { task: get('TaskDuration'), script: get('ScriptDuration'), layout: get('LayoutDuration'), style: get('RecalcStyleDuration'), thread: get('ThreadTime') }
}

/** Waits for the frame a key caused and the tasks it queued (one frame, then one macrotask). */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))))
}

/** Main-thread milliseconds (task, script, layout, style) of one key: the key, its frame, and the tasks it queued. */
export async function oneKey(p: MeasuredPage, key: string): Promise<{ task: number; script: number; layout: number; style: number; thread: number }> {
  const before = await mainThreadMetrics(p.cdp)
  await p.page.keyboard.press(key)
  await settle(p.page)
  const after = await mainThreadMetrics(p.cdp)
  return {
    task: (after.task - before.task) * 1000,
    script: (after.script - before.script) * 1000,
    layout: (after.layout - before.layout) * 1000,
    style: (after.style - before.style) * 1000,
    thread: (after.thread - before.thread) * 1000,
  }
}
