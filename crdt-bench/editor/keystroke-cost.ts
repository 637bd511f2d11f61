/**
 * Main-thread cost of editing in Chromium, tandem's two layouts against ProseMirror alone.
 *
 * Cost of a key = the renderer's main-thread time (Chrome's `TaskDuration` metric, read over CDP
 * before the key and after the frame it caused and the tasks it queued): input handling, the
 * transaction, the binding, Yjs, IndexedDB and socket writes, awareness, rendering, layout. Each
 * page is a browser context of its own (its own renderer process), so no page's work is counted
 * in another's. All pages of one document size are open at once and measured in alternating
 * blocks of keys, so machine noise hits them alike.
 *
 * Pages, on the same document (paragraphs of 100 characters, caret at the end of the middle one):
 * - `prosemirror`: ProseMirror alone with the editor's schema, input rules, keymaps, toolbar
 *   and DOM structure (`bench.html`): the floor any binding can reach;
 * - `blocks`, `y-prosemirror`: `mountEditor` in that layout on the bare page;
 * - `demo blocks`, `demo y-prosemirror`: the demo page as users see it (toolbar, presence list,
 *   connection and saved indicators, CRDT panel) in that layout.
 * In every room another user (a Node peer, `peer.ts`) is connected with a cursor a third of the
 * way into the document, so presence and a remote cursor are live as in a two-person session.
 *
 * Remote cost: the peer types one character at a time into a paragraph a third of the way in and
 * moves its cursor after it, as a typing user's editor does (on the block layout that publishes
 * nothing: a caret is published as the unit after it, which typing does not move); cost = the page's main-thread time
 * from before the keystroke is sent to after the frame that showed the character and the moved
 * cursor. ProseMirror alone's figure for the same change is a transaction inserting that character
 * dispatched from script.
 *
 * Typed keys are measured twice: each key alone (its window ends after the frame it caused and the
 * tasks it queued) and each block of 5 keys with what follows it, until the page is quiet again
 * (the relay has acknowledged every key as stored): that second figure counts the work a key causes
 * later (the acknowledgement, IndexedDB and socket callbacks, timers), which the first can miss.
 */
import type { Browser } from 'playwright-core'
import { caretInTheMiddle, mainThreadMetrics, oneKey, openBenchPage, openDemoPage, settle, type BenchSite, type MeasuredPage } from './pages.ts'
import { joinAsPeer, type Layout, type Peer } from './peer.ts'

/** The pages measured. */
export const PAGE_KINDS = ['prosemirror', 'blocks', 'y-prosemirror', 'demo blocks', 'demo y-prosemirror'] as const
export type PageKind = (typeof PAGE_KINDS)[number]

/** p50 of one page's per-key main-thread time, and of its parts (ms). */
export interface PageCost {
  /** Main-thread task time (wall clock: includes time the thread waited for a core). */
  task: number
  script: number
  layout: number
  style: number
  /** Main-thread CPU time (Chrome's `ThreadTime`: what the page itself spent). */
  thread: number
}

/** One document size: every page's typed-key cost and the editors' remote-key cost. */
export interface ChromiumCosts {
  chars: number
  keys: number
  typed: Record<PageKind, PageCost>
  /**
   * Per key, everything a block of keys caused: from before its first key until the page is quiet
   * again (an editor: the relay has acknowledged every key as stored and the frame after that has
   * run), divided by the block's keys; p50 over the blocks. Counts what the per-key window can
   * miss: the relay's saved acknowledgement, IndexedDB and socket callbacks, timers.
   */
  typedWithAfter: Record<PageKind, PageCost>
  remote: Record<'prosemirror' | Layout, PageCost>
}

interface OpenPage {
  kind: PageKind
  p: MeasuredPage
  peer: Peer | null
}

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? NaN) * 1000) / 1000
}

function costOf(samples: PageCost[]): PageCost {
  return {
    task: p50(samples.map((s) => s.task)),
    script: p50(samples.map((s) => s.script)),
    layout: p50(samples.map((s) => s.layout)),
    style: p50(samples.map((s) => s.style)),
    thread: p50(samples.map((s) => s.thread)),
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
let runs = 0

/**
 * Resolves in the page once its editor holds nothing unacknowledged (ProseMirror alone: at once),
 * then after one more frame: the page is quiet. Waits on the editor's `saved` event, not polling.
 */
async function quiet(p: MeasuredPage): Promise<void> {
  await p.page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const frame = (): void => {
          requestAnimationFrame(() => setTimeout(resolve, 0))
        }
        const editor = window.tandem?.editor ?? window.benchEditor
        if (!editor || editor.saved === 'saved') {
          frame()
          return
        }
        const timer = setTimeout(() => reject(new Error('keystroke bench: keys not acknowledged within 30 s')), 30_000)
        const on = (state: string): void => {
          if (state !== 'saved') return
          editor.off('saved', on)
          clearTimeout(timer)
          frame()
        }
        editor.on('saved', on)
      }),
  )
}

/** The difference of two metric readings, in ms. */
function costBetween(before: Awaited<ReturnType<typeof mainThreadMetrics>>, after: Awaited<ReturnType<typeof mainThreadMetrics>>, keys = 1): PageCost {
  const d = (k: keyof PageCost): number => ((after[k] - before[k]) * 1000) / keys
  return { task: d('task'), script: d('script'), layout: d('layout'), style: d('style'), thread: d('thread') }
}

async function openAll(browser: Browser, site: BenchSite, chars: number, kinds: readonly PageKind[]): Promise<OpenPage[]> {
  const pages: OpenPage[] = []
  const tag = `${chars}-${process.pid}-${++runs}`
  for (const kind of kinds) {
    const room = `bench-cost-${kind.replace(' ', '-')}-${tag}`
    let p: MeasuredPage
    let layout: Layout | null = null
    if (kind === 'prosemirror') p = await openBenchPage(browser, site.otherSiteUrl, { mode: 'prosemirror', chars, relay: site.relayUrl, room })
    else if (kind === 'blocks' || kind === 'y-prosemirror') {
      layout = kind
      p = await openBenchPage(browser, site.httpUrl, { mode: kind, chars, relay: site.relayUrl, room })
    } else {
      layout = kind === 'demo blocks' ? 'blocks' : 'y-prosemirror'
      p = await openDemoPage(browser, site.httpUrl, site.relayUrl, room, layout, { name: 'A', color: '#e11d48' }, chars)
    }
    let peer: Peer | null = null
    if (layout) {
      peer = await joinAsPeer(site.relayUrl, room, layout, Math.ceil(chars / 100))
      peer.placeCursor(Math.floor(chars / 300), 10)
      await p.page.waitForSelector('.ProseMirror-yjs-cursor', { timeout: 60_000 })
    }
    await caretInTheMiddle(p)
    pages.push({ kind, p, peer })
  }
  return pages
}

/**
 * Main-thread ms of applying one character the peer typed, with the peer's cursor moving after it
 * as a typing user's does (ProseMirror alone: a scripted transaction inserting the character).
 */
async function oneRemoteKey(page: OpenPage, paragraph: number, offset: number, ch: string): Promise<PageCost> {
  const before = await mainThreadMetrics(page.p.cdp)
  if (page.peer) {
    await page.p.page.evaluate(() => {
      const editor = (window.tandem?.editor ?? window.benchEditor)!
      const doc = new Promise<void>((resolve) => editor.doc.once('afterTransaction', () => resolve()))
      let off = (): void => {}
      const cursor = new Promise<void>((resolve) => {
        const on = ({ added, updated }: { added: number[]; updated: number[] }): void => {
          if (![...added, ...updated].some((id) => id !== editor.awareness.clientID)) return
          editor.awareness.off('change', on)
          resolve()
        }
        editor.awareness.on('change', on)
        off = () => editor.awareness.off('change', on)
      })
      const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error('remote key: nothing arrived within 30 s')), 30_000))
      const frame = (): Promise<void> => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))
      const w = window as unknown as { __change: (withCursor: boolean) => Promise<void> }
      // the peer's cursor moves with the character only where its editor publishes that (see peer.ts)
      w.__change = (withCursor) => {
        if (!withCursor) off()
        return Promise.race([withCursor ? Promise.all([doc, cursor]) : doc, timeout]).then(frame)
      }
    })
    page.peer.type(paragraph, offset, ch)
    const published = page.peer.placeCursor(paragraph, offset + 1)
    await page.p.page.evaluate((withCursor) => (window as unknown as { __change: (c: boolean) => Promise<void> }).__change(withCursor), published)
  } else {
    await page.p.page.evaluate(
      ([n, at, c]) => {
        const view = window.benchView!
        let pos = 1
        for (let i = 0; i < n; i++) pos += view.state.doc.child(i).nodeSize
        view.dispatch(view.state.tr.insertText(c, pos + at))
      },
      [paragraph, offset, ch] as const,
    )
    await settle(page.p.page)
  }
  return costBetween(before, await mainThreadMetrics(page.p.cdp))
}

/**
 * Measures `keys` typed keys per page and `remoteKeys` remote keys per editor page at document
 * size `chars` (after `warmup` keys of each), on the pages `kinds` (default all).
 */
export async function measureChromiumCosts(
  browser: Browser,
  site: BenchSite,
  chars: number,
  keys: number,
  remoteKeys: number,
  warmup = 20,
  kinds: readonly PageKind[] = PAGE_KINDS,
): Promise<ChromiumCosts> {
  const pages = await openAll(browser, site, chars, kinds)
  try {
    const BLOCK = 5
    const typed = new Map<PageKind, PageCost[]>(kinds.map((k) => [k, []]))
    const withAfter = new Map<PageKind, PageCost[]>(kinds.map((k) => [k, []]))
    const pressed = new Map<PageKind, number>(kinds.map((k) => [k, 0]))
    for (let done = -warmup; done < keys; done += BLOCK) {
      for (const page of pages) {
        await quiet(page.p)
        const start = await mainThreadMetrics(page.p.cdp)
        for (let i = 0; i < BLOCK; i++) {
          const cost = await oneKey(page.p, LETTERS[(done + i + 26) % 26]!)
          pressed.set(page.kind, pressed.get(page.kind)! + 1)
          if (done + i >= 0 && done + i < keys) typed.get(page.kind)!.push(cost)
        }
        await quiet(page.p)
        if (done >= 0) withAfter.get(page.kind)!.push(costBetween(start, await mainThreadMetrics(page.p.cdp), BLOCK))
      }
    }
    // every key must have landed in the document (100-character paragraphs plus the keys)
    for (const page of pages) {
      const size = await page.p.page.evaluate(() => (window.tandem?.editor.view ?? window.benchView!).state.doc.textContent.length)
      const got = size - Math.ceil(chars / 100) * 100
      if (got !== pressed.get(page.kind)) throw new Error(`keystroke bench (${page.kind}): ${got} of ${pressed.get(page.kind)} keys reached the document`)
    }

    const remotePages = pages.filter((p) => p.kind === 'prosemirror' || p.kind === 'blocks' || p.kind === 'y-prosemirror')
    const remote = new Map<string, PageCost[]>(remotePages.map((p) => [p.kind, []]))
    const paragraph = Math.floor(chars / 300)
    for (let done = -warmup; done < remoteKeys; done += BLOCK) {
      for (const page of remotePages) {
        for (let i = 0; i < BLOCK; i++) {
          const cost = await oneRemoteKey(page, paragraph, 20, LETTERS[(done + i + 26) % 26]!)
          if (done + i >= 0 && done + i < remoteKeys) remote.get(page.kind)!.push(cost)
        }
      }
    }
    return {
      chars,
      keys,
      typed: Object.fromEntries(kinds.map((k) => [k, costOf(typed.get(k)!)])) as Record<PageKind, PageCost>,
      typedWithAfter: Object.fromEntries(kinds.map((k) => [k, costOf(withAfter.get(k)!)])) as Record<PageKind, PageCost>,
      remote: Object.fromEntries([...remote].map(([k, v]) => [k, costOf(v)])) as Record<'prosemirror' | Layout, PageCost>,
    }
  } finally {
    for (const page of pages) {
      page.peer?.close()
      await page.p.page.context().close()
    }
  }
}

/**
 * Time to open a room of `chars` characters that the relay already holds (a fresh browser
 * profile: nothing in IndexedDB): from `mountEditor` to the editor showing the whole document,
 * median of `runs` per layout, alternating. The rooms are written first by one page per layout.
 */
export async function measureOpen(browser: Browser, site: BenchSite, chars: number, runs = 3): Promise<Record<Layout, number>> {
  const layouts: Layout[] = ['blocks', 'y-prosemirror']
  const rooms = new Map<Layout, string>()
  for (const layout of layouts) {
    const room = `bench-open-${layout}-${chars}-${process.pid}`
    const writer = await openBenchPage(browser, site.httpUrl, { mode: layout, chars, relay: site.relayUrl, room })
    await writer.page.waitForFunction(() => window.benchEditor!.saved === 'saved', null, { timeout: 120_000 })
    await writer.page.context().close()
    rooms.set(layout, room)
  }
  const times = new Map<Layout, number[]>(layouts.map((l) => [l, []]))
  for (let run = 0; run < runs; run++) {
    for (const layout of layouts) {
      const reader = await openBenchPage(browser, site.httpUrl, { mode: layout, chars, relay: site.relayUrl, room: rooms.get(layout)!, open: true })
      const ms = await reader.page.evaluate(() => window.benchOpenMs!)
      times.get(layout)!.push(ms)
      await reader.page.context().close()
    }
  }
  return { blocks: p50(times.get('blocks')!), 'y-prosemirror': p50(times.get('y-prosemirror')!) }
}
