/**
 * Keystroke cost of tandem's editor against ProseMirror alone: the renderer main-thread time
 * of one typed character (Chrome's `TaskDuration` metric, read over CDP before the key and
 * after the frame it caused and the tasks it queued), in the same Chromium, on the same
 * document (paragraphs of 100 characters), caret in the middle. The two pages (separate renderer
 * processes) are measured in alternating blocks of keys so that machine noise hits both alike. ProseMirror alone is the
 * floor any collaborative binding can reach; the ratio is what collaboration costs.
 */
import * as esbuild from 'esbuild'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { serveStatic } from '../../test/e2e/static-server.ts'
import type { BenchMountOptions } from './keystroke-page.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..')

/** p50 of each mode and their ratio, for one document size. */
export interface KeystrokeCost {
  chars: number
  keys: number
  prosemirrorP50: number
  tandemP50: number
  /** tandem / ProseMirror alone (p50 over p50). */
  ratio: number
}

const HTML = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="tandem-editor.css"><script type="module" src="keystroke-page.js"></script>
</head><body><div id="editor"></div></body></html>`

/** Builds the benchmark page into a temp dir and serves it; `close` removes both. */
async function servePage(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-keystroke-'))
  await esbuild.build({
    entryPoints: [join(here, 'keystroke-page.ts')],
    outfile: join(dir, 'keystroke-page.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  })
  await copyFile(join(root, 'editor', 'editor.css'), join(dir, 'tandem-editor.css'))
  await writeFile(join(dir, 'index.html'), HTML)
  const server = await serveStatic(dir)
  return {
    url: server.url,
    async close() {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

interface BenchPage {
  page: Page
  cdp: CDPSession
}

async function openMode(browser: Browser, url: string, options: BenchMountOptions): Promise<BenchPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  const page = await context.newPage()
  page.on('pageerror', (err) => process.stderr.write(`[${options.mode}] page error: ${err.message}\n`))
  await page.goto(`${url}/`)
  await page.waitForFunction(() => typeof window.benchMount === 'function')
  await page.evaluate((o) => window.benchMount!(o), options)
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  return { page, cdp }
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN
}

/** Main-thread milliseconds of one key: the key, its frame, and the tasks it queued. */
async function oneKey(p: BenchPage, key: string): Promise<number> {
  const before = await taskSeconds(p.cdp)
  await p.page.keyboard.press(key)
  await p.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))))
  return ((await taskSeconds(p.cdp)) - before) * 1000
}

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? NaN) * 1000) / 1000
}

/**
 * Measures `keys` keystrokes per mode at each size in `sizes` (after `warmup` keys per mode).
 * `relay` is a tandem relay URL for the editor's room.
 */
export async function measureKeystrokeCost(
  browser: Browser,
  relay: string,
  sizes: readonly number[],
  keys: number,
  warmup = 20,
): Promise<KeystrokeCost[]> {
  const page = await servePage()
  const results: KeystrokeCost[] = []
  try {
    for (const chars of sizes) {
      const room = `bench-keystroke-${chars}-${process.pid}`
      // Two sites (localhost vs 127.0.0.1), so the pages get separate renderer processes and
      // neither page's background work is counted in the other's main-thread time.
      const pm = await openMode(browser, page.url.replace('127.0.0.1', 'localhost'), { mode: 'prosemirror', chars, relay, room })
      const tandem = await openMode(browser, page.url, { mode: 'tandem', chars, relay, room })
      const letters = 'abcdefghijklmnopqrstuvwxyz'
      const samples = { pm: [] as number[], tandem: [] as number[] }
      let pressed = 0
      const BLOCK = 5
      for (let done = -warmup; done < keys; done += BLOCK) {
        for (const [name, p] of [['pm', pm], ['tandem', tandem]] as const) {
          for (let i = 0; i < BLOCK; i++) {
            const ms = await oneKey(p, letters[(done + i + 26) % 26]!)
            if (name === 'pm') pressed++
            if (done + i >= 0 && done + i < keys) samples[name].push(ms)
          }
        }
      }
      // Every key must have landed in the document (100-character paragraphs plus the keys).
      for (const p of [pm, tandem]) {
        const size = await p.page.evaluate(() => window.benchView!.state.doc.textContent.length)
        const typed = size - Math.ceil(chars / 100) * 100
        if (typed !== pressed) throw new Error(`keystroke bench: ${typed} keys reached the document`)
        await p.page.context().close()
      }
      const prosemirrorP50 = p50(samples.pm)
      const tandemP50 = p50(samples.tandem)
      results.push({ chars, keys, prosemirrorP50, tandemP50, ratio: Math.round((tandemP50 / prosemirrorP50) * 100) / 100 })
    }
  } finally {
    await page.close()
  }
  return results
}
