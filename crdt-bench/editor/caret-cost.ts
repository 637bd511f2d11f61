/**
 * What another user's caret costs each key typed elsewhere, by the element that draws it:
 * y-prosemirror's `defaultCursorBuilder` (a span holding the name label between two U+2060 word
 * joiners) against tandem's `cursorCaret` (the same span and label, no joiners), and no caret.
 *
 * One bare editor page (block layout, `mountEditor`), another user (a Node peer) with a caret a
 * third of the way into the document, keys typed at the end of the middle paragraph. The page
 * switches between the three in alternating blocks of 5 keys (no caret: the peer's awareness state
 * is taken out of the page's copy and the cursors redrawn), so machine noise hits them alike.
 * Prints the main-thread CPU time per key (p50, Chrome's `ThreadTime`) and each caret's cost over
 * none.
 *
 *   npx tsx crdt-bench/editor/caret-cost.ts [--chars 50000] [--keys 200]
 */
import { parseArgs } from 'node:util'
import { launchChromium } from '../../test/e2e/chromium.ts'
import type { CaretKind } from './keystroke-page.ts'
import { caretInTheMiddle, oneKey, openBenchPage, settle, startBenchSite } from './pages.ts'
import { joinAsPeer } from './peer.ts'

const { values } = parseArgs({ options: { chars: { type: 'string', default: '50000' }, keys: { type: 'string', default: '200' } } })
const chars = Number(values.chars)
const keys = Number(values.keys)
type Shown = CaretKind | 'none'
const SHOWN: Shown[] = ['none', 'y-prosemirror', 'tandem']
const BLOCK = 5
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'

const site = await startBenchSite()
const browser = await launchChromium()
try {
  const room = `caret-cost-${process.pid}`
  const p = await openBenchPage(browser, site.httpUrl, { mode: 'blocks', chars, relay: site.relayUrl, room, switchableCaret: true })
  const peer = await joinAsPeer(site.relayUrl, room, 'blocks', Math.ceil(chars / 100))
  peer.placeCursor(Math.floor(chars / 300), 10)
  await p.page.waitForSelector('.ProseMirror-yjs-cursor', { timeout: 60_000 })
  await caretInTheMiddle(p)
  const show = (shown: Shown): Promise<string> =>
    p.page.evaluate((shown) => {
      const editor = window.benchEditor!
      const { awareness, view } = editor
      const w = window as unknown as { __peerStates?: [number, unknown][] }
      w.__peerStates ??= [...awareness.states].filter(([id]) => id !== awareness.clientID)
      const plugin = view.state.plugins.find((pl) => (pl as unknown as { key: string }).key.startsWith('tandem-block-cursors'))!
      // take the caret away first: a widget of the same key keeps its element when redrawn
      for (const [id] of w.__peerStates) awareness.states.delete(id)
      view.dispatch(view.state.tr.setMeta(plugin, true))
      if (shown !== 'none') {
        window.benchCaretKind = shown
        for (const [id, state] of w.__peerStates) awareness.states.set(id, state as Record<string, unknown>)
        view.dispatch(view.state.tr.setMeta(plugin, true))
      }
      // what is drawn now: nothing, or a caret with or without word joiners
      const caret = document.querySelector('.ProseMirror-yjs-cursor')
      return !caret ? 'none' : caret.textContent!.includes('\u2060') ? 'y-prosemirror' : 'tandem'
    }, shown)
  const samples = new Map<Shown, number[]>(SHOWN.map((k) => [k, []]))
  let typed = 0
  for (let done = -20; done < keys; done += BLOCK) {
    for (const shown of SHOWN) {
      const drawn = await show(shown)
      if (drawn !== shown) throw new Error(`caret-cost: asked for ${shown}, the page draws ${drawn}`)
      await settle(p.page)
      for (let i = 0; i < BLOCK; i++) {
        const cost = await oneKey(p, LETTERS[typed++ % 26]!)
        if (done >= 0) samples.get(shown)!.push(cost.thread)
      }
    }
  }
  peer.close()
  const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const none = p50(samples.get('none')!)
  process.stdout.write(`another user's caret: main-thread CPU per key typed elsewhere (p50), ${chars} characters, ${keys} keys each\n`)
  for (const shown of SHOWN) {
    const ms = p50(samples.get(shown)!)
    process.stdout.write(`  ${(shown === 'none' ? 'no caret' : `${shown} caret`).padEnd(20)} ${ms.toFixed(2)} ms${shown === 'none' ? '' : `  (+${(ms - none).toFixed(2)} ms)`}\n`)
  }
} finally {
  await browser.close()
  await site.close()
}
