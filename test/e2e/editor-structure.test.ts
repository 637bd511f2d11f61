/**
 * Structure changes concurrent with typing, in real Chromium with real keyboards (issue 22).
 * Ada (A) ticks "Work offline" and types; meanwhile Bob (B, online) changes the structure of the
 * same blocks (join, heading, list, Enter, delete, …); Ada goes back online. Each case asserts
 * the exact converged document — every block's type, containers, marks and text — so it says
 * where every typed word ended up: present once, whole, in the block the README's concurrency
 * table says. Both tabs must hold identical shared content, show the same document, and the
 * relay must read the room as the same document (a fresh read from the Y.Text, not the
 * binding's incremental view).
 * Seeds are written through the relay's HTTP API (the editor's own deterministic seed update),
 * so each case starts from exactly its document and no one's undo history holds the seed.
 *
 * Where Yjs orders two concurrent inserts at one spot by client id, the case accepts exactly
 * the two orders (nothing else). One browser, one relay and two tabs (Ada's and Bob's, each its own
 * browser context) for the file; each test loads both tabs on a fresh room.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import * as Y from 'yjs'
import { prosemirrorJSONToYDoc } from 'y-prosemirror'
import { buildEditor } from '../../editor/build.ts'
import { editorSchema } from '../../editor/schema.ts'
import { launchChromium } from './chromium.ts'
import { serveStatic, type StaticServer } from './static-server.ts'
import { startTestRelay, type TestRelay } from './relay.ts'
import { contentSeedUpdate } from '../../editor/blocks/convert.ts'
import {
  caretAt,
  docOutline,
  gotoDemo,
  outline,
  pasteHtml,
  setOffline,
  settledHead,
  textblockPos,
  waitForConvergence,
  waitForText,
  type DemoTarget,
  type DemoUser,
  type PMJson,
} from './demo-page.ts'

const ADA = { name: 'Ada', color: '#e11d48' }
const BOB = { name: 'Bob', color: '#2563eb' }
const KEY_DELAY = 10

let browser: Browser
let pages: StaticServer
let relay: TestRelay
let target: DemoTarget
let tabs: DemoUser[] = []
let roomCounter = 0

async function newTab(name: string): Promise<DemoUser> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  const page = await context.newPage()
  page.on('pageerror', (err) => process.stderr.write(`[${name}] page error: ${err.message}\n`))
  return { context, page }
}

beforeAll(async () => {
  const { distDir } = await buildEditor()
  ;[browser, pages, relay] = await Promise.all([launchChromium(), serveStatic(distDir), startTestRelay()])
  target = { pageUrl: pages.url, relay: relay.url }
  tabs = await Promise.all([newTab(ADA.name), newTab(BOB.name)])
}, 120_000)

afterAll(async () => {
  await Promise.all(tabs.map((t) => t.context.close()))
  await browser?.close()
  await pages?.close()
  await relay?.dispose()
})

// Seed documents (ProseMirror JSON) ...
const text = (s: string): PMJson => ({ type: 'text', text: s })
const bold = (s: string): PMJson => ({ type: 'text', text: s, marks: [{ type: 'strong' }] })
const para = (...inline: (string | PMJson)[]): PMJson => ({ type: 'paragraph', content: inline.map((i) => (typeof i === 'string' ? text(i) : i)) })
const item = (...content: PMJson[]): PMJson => ({ type: 'list_item', content })
const bullets = (...content: PMJson[]): PMJson => ({ type: 'bullet_list', content })
const docOf = (...content: PMJson[]): PMJson => ({ type: 'doc', content })
const TWO_LINES = docOf(para('first line'), para('second line'))

// ... and expected documents, in the outline notation of demo-page.ts.
const q = (s: string): string => JSON.stringify(s)
const p = (...inline: string[]): string => `p(${inline.map((s) => (s.startsWith('b(') ? s : q(s))).join(', ')})`
const h = (level: number, s: string): string => `h${level}(${q(s)})`
const b = (s: string): string => `b(${q(s)})`
const li = (...blocks: string[]): string => `li(${blocks.join(', ')})`
const ul = (...items: string[]): string => `ul(${items.join(', ')})`

interface Pair {
  a: Page
  b: Page
  room: string
}

function newRoom(label: string): string {
  return `structure-${label}-${process.pid}-${++roomCounter}`
}

async function post(room: string, update: Uint8Array, httpUrl = relay.httpUrl): Promise<void> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`, { method: 'POST', body: Buffer.from(update) })
  if (!res.ok) throw new Error(`POST update: ${res.status} ${await res.text()}`)
}

/** Ada's and Bob's tabs on a fresh room holding `seed` (block layout); both show it, focused. */
async function pair(label: string, seed: PMJson = TWO_LINES): Promise<Pair> {
  const room = newRoom(label)
  await post(room, contentSeedUpdate(editorSchema.nodeFromJSON(seed)))
  const [a, b] = tabs.map((t) => t.page) as [Page, Page]
  await Promise.all([gotoDemo(a, target, room, ADA), gotoDemo(b, target, room, BOB)])
  const want = (seed.content ?? []).map(outline)
  await Promise.all([a, b].map((page) => waitForOutline(page, want)))
  await Promise.all([a, b].map((page) => page.evaluate(() => window.tandem!.editor.view.focus())))
  return { a, b, room }
}

async function keys(page: Page, ...sequence: string[]): Promise<void> {
  for (const key of sequence) await page.keyboard.press(key)
}

/** Length of the `index`-th textblock's content. */
async function blockSize(page: Page, index: number): Promise<number> {
  return page.evaluate((i) => {
    const doc = window.tandem!.editor.view.state.doc
    let n = 0
    let size = -1
    doc.descendants((node) => {
      if (size >= 0) return false
      if (!node.isTextblock) return true
      if (n++ === i) size = node.content.size
      return false
    })
    return size
  }, index)
}

/** Caret at the end of the `index`-th textblock. */
async function caretAtEnd(page: Page, index: number): Promise<void> {
  await caretAt(page, index, await blockSize(page, index))
}

/**
 * Extends the selection (anchor where it is) to offset `offset` of textblock `index`, `down`
 * lines below the anchor's, with Shift+ArrowDown, Shift+Home and Shift+ArrowRight, then nudges
 * the head until the editor holds exactly that selection.
 */
async function selectTo(page: Page, down: number, index: number, offset: number): Promise<void> {
  const want = await textblockPos(page, index, offset)
  await keys(page, ...Array<string>(down).fill('Shift+ArrowDown'), 'Shift+Home', ...Array<string>(offset).fill('Shift+ArrowRight'))
  for (let i = 0; i < 40; i++) {
    const head = await settledHead(page)
    if (head === want) return
    await page.keyboard.press(head < want ? 'Shift+ArrowRight' : 'Shift+ArrowLeft')
  }
  throw new Error(`selection head did not reach ${want}`)
}

/** Waits until `page`'s document is `want` (outline per top-level block). */
async function waitForOutline(page: Page, want: string[], deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const got = await docOutline(page)
    if (JSON.stringify(got) === JSON.stringify(want)) return
    if (Date.now() > deadline) throw new Error(`document is\n  ${got.join('\n  ')}\nnot\n  ${want.join('\n  ')}`)
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)))
  }
}

/** The DOM's text of the editor (others' cursor labels left out) equals its document's text. */
async function domShowsState(page: Page): Promise<void> {
  const [dom, state] = await page.evaluate(() => {
    const { view } = window.tandem!.editor
    const blocks: string[] = []
    const copy = view.dom.cloneNode(true) as HTMLElement
    copy.querySelectorAll('.ProseMirror-yjs-cursor, .ProseMirror-widget').forEach((c) => c.remove())
    copy.querySelectorAll('p, h1, h2, h3, h4, h5, h6, pre').forEach((el) => blocks.push(el.textContent ?? ''))
    const texts: string[] = []
    view.state.doc.descendants((node) => {
      if (!node.isTextblock) return true
      texts.push(node.textContent)
      return false
    })
    return [blocks, texts]
  })
  expect(dom).toEqual(state)
}

/** The room as the relay reads it (`?format=prosemirror`), one outline per block. */
async function relayOutline(room: string, httpUrl = relay.httpUrl): Promise<string[]> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}?format=prosemirror`)
  if (!res.ok) return [`HTTP ${res.status}`]
  return (((await res.json()) as PMJson).content ?? []).map(outline)
}

/**
 * Waits until both tabs hold identical shared content; checks they show the same document, their
 * DOM shows it, and the relay reads the stored room as the same document. Returns the outline.
 */
async function settle({ a, b, room }: Pair): Promise<string[]> {
  await waitForConvergence([a, b], 20_000)
  const [oa, ob] = await Promise.all([docOutline(a), docOutline(b)])
  expect(ob, 'both tabs show the same document').toEqual(oa)
  await domShowsState(a)
  await domShowsState(b)
  const deadline = Date.now() + 10_000
  let fromRelay = await relayOutline(room)
  while (JSON.stringify(fromRelay) !== JSON.stringify(oa) && Date.now() < deadline) {
    await a.evaluate(() => new Promise((r) => setTimeout(r, 50)))
    fromRelay = await relayOutline(room)
  }
  expect(fromRelay, 'the relay reads the room as the tabs show it').toEqual(oa)
  return oa
}

/**
 * The scenario: Ada goes offline, `ada` runs in her tab and `bob` in his (both start
 * from the same document); Bob's document must then be `bobSees` (Ada's change has not reached
 * him) and Ada's `adaSees`; Ada goes online and both converge. Returns the converged outline.
 */
async function offlineRound(
  pr: Pair,
  ada: (page: Page) => Promise<void>,
  bob: (page: Page) => Promise<void>,
  adaSees: string[],
  bobSees: string[],
): Promise<string[]> {
  await setOffline(pr.a, true)
  await ada(pr.a)
  await bob(pr.b)
  await waitForOutline(pr.b, bobSees)
  await waitForOutline(pr.a, adaSees)
  await setOffline(pr.a, false)
  return settle(pr)
}

const typeAtEndOf = (index: number, text: string) => async (page: Page): Promise<void> => {
  await caretAtEnd(page, index)
  await page.keyboard.type(text, { delay: KEY_DELAY })
}

const typeAt = (index: number, offset: number, text: string) => async (page: Page): Promise<void> => {
  await caretAt(page, index, offset)
  await page.keyboard.type(text, { delay: KEY_DELAY })
}

/** Clicks a toolbar button. */
async function toolbar(page: Page, command: string): Promise<void> {
  await page.locator(`[data-command="${command}"]`).click()
}

/** Expects `got` to be one of `options` (two orders Yjs decides by client id). */
function expectOneOf(got: string[], options: string[][]): void {
  expect(options.map((o) => JSON.stringify(o)), `got\n  ${got.join('\n  ')}`).toContain(JSON.stringify(got))
}

describe('the issue\u2019s table: Ada types " AAA" offline at the end of paragraph 2 while Bob changes it', () => {
  test('Bob joins it to paragraph 1 (Backspace at its start): the words stay, in the joined block', async () => {
    const pr = await pair('join')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAt(page, 1, 0)
        await keys(page, 'Backspace')
      },
      [p('first line'), p('second line AAA')],
      [p('first linesecond line')],
    )
    expect(doc).toEqual([p('first linesecond line AAA')])
  })

  test('Bob makes it a heading (Shift-Ctrl-1): the words stay, in the heading', async () => {
    const pr = await pair('heading')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAt(page, 1, 3)
        await keys(page, 'Control+Shift+Digit1')
      },
      [p('first line'), p('second line AAA')],
      [p('first line'), h(1, 'second line')],
    )
    expect(doc).toEqual([p('first line'), h(1, 'second line AAA')])
  })

  test('Bob wraps it in a bullet list (toolbar): the words stay, in the list item', async () => {
    const pr = await pair('wrap')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAt(page, 1, 3)
        await toolbar(page, 'bullet-list')
      },
      [p('first line'), p('second line AAA')],
      [p('first line'), ul(li(p('second line')))],
    )
    expect(doc).toEqual([p('first line'), ul(li(p('second line AAA')))])
  })

  test('Bob presses Enter in its middle (second| line): the words stay at the end of the second half', async () => {
    const pr = await pair('enter')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAt(page, 1, 6)
        await keys(page, 'Enter')
      },
      [p('first line'), p('second line AAA')],
      [p('first line'), p('second'), p(' line')],
    )
    expect(doc).toEqual([p('first line'), p('second'), p(' line AAA')])
  })

  test('Ada and Bob press Enter at two different points of it: three blocks, no letter doubled', async () => {
    const pr = await pair('two-enters')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await typeAtEndOf(1, ' AAA')(page)
        await caretAt(page, 1, 3)
        await keys(page, 'Enter')
      },
      async (page) => {
        await caretAt(page, 1, 9)
        await keys(page, 'Enter')
      },
      [p('first line'), p('sec'), p('ond line AAA')],
      [p('first line'), p('second li'), p('ne')],
    )
    expect(doc).toEqual([p('first line'), p('sec'), p('ond li'), p('ne AAA')])
  })

  test('Bob selects all of its text and deletes it: the words survive, alone in that block', async () => {
    const pr = await pair('delete-text')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAt(page, 1, 0)
        await keys(page, 'Shift+End')
        await page.waitForFunction(() => {
          const { state } = window.tandem!.editor.view
          return state.doc.textBetween(state.selection.from, state.selection.to) === 'second line'
        })
        await keys(page, 'Backspace')
      },
      [p('first line'), p('second line AAA')],
      [p('first line'), p()],
    )
    expect(doc).toEqual([p('first line'), p(' AAA')])
  })
})

describe('the README\u2019s concurrency table, Ada offline and Bob online', () => {
  test('split vs split at the same point: one extra block, each writer\u2019s word after their own Enter', async () => {
    const pr = await pair('split-split')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAt(page, 1, 6)
        await keys(page, 'Enter')
        await page.keyboard.type('AAA', { delay: KEY_DELAY })
      },
      async (page) => {
        await caretAt(page, 1, 6)
        await keys(page, 'Enter')
        await page.keyboard.type('BBB', { delay: KEY_DELAY })
      },
      [p('first line'), p('second'), p('AAA line')],
      [p('first line'), p('second'), p('BBB line')],
    )
    expectOneOf(doc, [
      [p('first line'), p('second'), p('AAA'), p('BBB line')],
      [p('first line'), p('second'), p('BBB'), p('AAA line')],
    ])
  })

  test('split vs join of the same boundary: still two blocks, both words once', async () => {
    const pr = await pair('split-join')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAt(page, 1, 0)
        await keys(page, 'Backspace')
        await page.keyboard.type('AAA', { delay: KEY_DELAY })
      },
      async (page) => {
        await caretAt(page, 1, 0)
        await keys(page, 'Enter')
        await page.keyboard.type('BBB', { delay: KEY_DELAY })
      },
      [p('first lineAAAsecond line')],
      [p('first line'), p(), p('BBBsecond line')],
    )
    // The join deleted the marker of "second line"; Bob's Enter wrote one more marker there. Where
    // Bob's marker went against Ada's word (both follow "first line") is Yjs's client-id order.
    expectOneOf(doc, [
      [p('first lineAAA'), p('BBBsecond line')],
      [p('first line'), p('AAABBBsecond line')],
    ])
  })

  test('two joins of one boundary: one join, both words at the join point', async () => {
    const pr = await pair('join-join')
    const join = (word: string) => async (page: Page): Promise<void> => {
      await caretAt(page, 1, 0)
      await keys(page, 'Backspace')
      await page.keyboard.type(word, { delay: KEY_DELAY })
    }
    const doc = await offlineRound(pr, join('AAA'), join('BBB'), [p('first lineAAAsecond line')], [p('first lineBBBsecond line')])
    expectOneOf(doc, [[p('first lineAAABBBsecond line')], [p('first lineBBBAAAsecond line')]])
  })

  test('H1 vs H2 at once: the write of the greater client id wins in both tabs, both words kept', async () => {
    const pr = await pair('h1-h2')
    const heading = (level: number, type: (page: Page) => Promise<void>) => async (page: Page): Promise<void> => {
      await caretAt(page, 1, 3)
      await keys(page, `Control+Shift+Digit${level}`)
      await type(page)
    }
    const doc = await offlineRound(
      pr,
      heading(1, typeAtEndOf(1, ' AAA')),
      heading(2, typeAt(1, 0, 'BBB ')),
      [p('first line'), h(1, 'second line AAA')],
      [p('first line'), h(2, 'BBB second line')],
    )
    const [ada, bob] = await Promise.all([pr.a, pr.b].map((page) => page.evaluate(() => window.tandem!.editor.doc.clientID)))
    expect(doc).toEqual([p('first line'), h(ada! > bob! ? 1 : 2, 'BBB second line AAA')])
  })

  test('wrap vs split inside the wrapped range: the new block keeps what its writer saw, the list reads as two', async () => {
    const pr = await pair('wrap-split', docOf(para('one'), para('two words'), para('three')))
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAt(page, 1, 3)
        await keys(page, 'Enter')
        await page.keyboard.type('AAA', { delay: KEY_DELAY })
      },
      async (page) => {
        await caretAt(page, 1, 1)
        await selectTo(page, 1, 2, 2)
        await toolbar(page, 'bullet-list')
      },
      [p('one'), p('two'), p('AAA words'), p('three')],
      [p('one'), ul(li(p('two words')), li(p('three')))],
    )
    expect(doc).toEqual([p('one'), ul(li(p('two'))), p('AAA words'), ul(li(p('three')))])
  })

  test('delete a whole block vs type inside it: the typed word survives in the block before', async () => {
    const pr = await pair('delete-block', docOf(para('one'), para('two'), para('three')))
    const doc = await offlineRound(
      pr,
      typeAt(1, 2, 'AAA'),
      async (page) => {
        await caretAt(page, 0, 3)
        await selectTo(page, 1, 1, 3)
        await keys(page, 'Backspace')
      },
      [p('one'), p('twAAAo'), p('three')],
      [p('one'), p('three')],
    )
    expect(doc).toEqual([p('oneAAA'), p('three')])
  })

  test('nested-list insert vs delete of the nested items: the new item survives, its nested list re-opened', async () => {
    const nested = docOf(bullets(item(para('a'), bullets(item(para('b')), item(para('c')))), item(para('d'))))
    const pr = await pair('nested', nested)
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAtEnd(page, 2)
        await keys(page, 'Enter')
        await page.keyboard.type('AAA', { delay: KEY_DELAY })
      },
      async (page) => {
        await caretAt(page, 0, 1)
        await selectTo(page, 2, 2, 1)
        await keys(page, 'Backspace')
      },
      [ul(li(p('a'), ul(li(p('b')), li(p('c')), li(p('AAA')))), li(p('d')))],
      [ul(li(p('a')), li(p('d')))],
    )
    expect(doc).toEqual([ul(li(p('a'), ul(li(p('AAA')))), li(p('d')))])
  })

  test('Enter at the end of a block vs typing at that end: the typed word once, whole, at one of the two ends', async () => {
    const pr = await pair('enter-end')
    const doc = await offlineRound(
      pr,
      typeAtEndOf(1, ' AAA'),
      async (page) => {
        await caretAtEnd(page, 1)
        await keys(page, 'Enter')
        await page.keyboard.type('BBB', { delay: KEY_DELAY })
      },
      [p('first line'), p('second line AAA')],
      [p('first line'), p('second line'), p('BBB')],
    )
    expectOneOf(doc, [
      [p('first line'), p('second line AAA'), p('BBB')],
      [p('first line'), p('second line'), p('BBB AAA')],
    ])
  })

  test('Enter inside a bold run while the other types bold inside it: both halves bold, the word whole', async () => {
    const pr = await pair('bold-enter', docOf(para('first line'), para(bold('boldword'))))
    const doc = await offlineRound(
      pr,
      typeAt(1, 2, 'AAA'),
      async (page) => {
        await caretAt(page, 1, 4)
        await keys(page, 'Enter')
      },
      [p('first line'), p(b('boAAAldword'))],
      [p('first line'), p(b('bold')), p(b('word'))],
    )
    expect(doc).toEqual([p('first line'), p(b('boAAAld')), p(b('word'))])
  })

  test('adjacent lists made at once stay two lists, each writer\u2019s word in its own item', async () => {
    const pr = await pair('adjacent-lists', docOf(para('first line'), para('second line'), para('third line')))
    const wrap = (index: number, word: string) => async (page: Page): Promise<void> => {
      await caretAt(page, index, 3)
      await toolbar(page, 'bullet-list')
      await typeAtEndOf(index, word)(page)
    }
    const doc = await offlineRound(
      pr,
      wrap(1, ' AAA'),
      wrap(2, ' BBB'),
      [p('first line'), ul(li(p('second line AAA'))), p('third line')],
      [p('first line'), p('second line'), ul(li(p('third line BBB')))],
    )
    expect(doc).toEqual([p('first line'), ul(li(p('second line AAA'))), ul(li(p('third line BBB')))])
  })
})

describe('composition, paste, old rooms and undo next to structure changes', () => {
  /** Composes `steps` (preedit texts) with the IME over CDP, `between` after the first, then commits `commit`. */
  async function compose(page: Page, steps: string[], commit: string, between?: () => Promise<void>): Promise<void> {
    const cdp = await page.context().newCDPSession(page)
    for (const [i, preedit] of steps.entries()) {
      await cdp.send('Input.imeSetComposition', { text: preedit, selectionStart: preedit.length, selectionEnd: preedit.length })
      await page.waitForFunction((t) => window.tandem!.editor.view.composing && window.tandem!.editor.view.state.doc.textContent.includes(t), preedit)
      if (i === 0) await between?.()
    }
    await cdp.send('Input.insertText', { text: commit })
    await page.waitForFunction((t) => window.tandem!.editor.view.state.doc.textContent.includes(t), commit)
    await cdp.detach()
  }

  test('IME composition (CDP) at the end of a block while the other’s join of that block arrives mid-composition: committed once, in the joined block', async () => {
    const pr = await pair('ime-join')
    await setOffline(pr.b, true)
    await caretAt(pr.b, 1, 0)
    await keys(pr.b, 'Backspace')
    await waitForOutline(pr.b, [p('first linesecond line')])
    await caretAtEnd(pr.a, 1)
    await compose(pr.a, ['か', 'かな', 'かなも'], '仮名文字', async () => {
      // Bob's join reaches Ada while she is composing (shown when the composition ends).
      await setOffline(pr.b, false)
      await hasAllOf(pr.a, pr.b)
    })
    await pr.a.keyboard.type(' AAA', { delay: KEY_DELAY })
    await waitForText(pr.b, '仮名文字 AAA')
    expect(await settle(pr)).toEqual([p('first linesecond line仮名文字 AAA')])
  })

  /** Waits until `page`'s Y.Doc holds everything `from`'s Y.Doc wrote. */
  async function hasAllOf(page: Page, from: Page): Promise<void> {
    const [client, clock] = await from.evaluate(() => {
      const doc = window.tandem!.editor.doc
      const structs = doc.store.clients.get(doc.clientID) ?? []
      const last = structs[structs.length - 1]
      return [doc.clientID, last ? last.id.clock + last.length : 0] as const
    })
    await page.waitForFunction(([c, n]) => {
      const structs = window.tandem!.editor.doc.store.clients.get(c) ?? []
      const last = structs[structs.length - 1]
      return (last ? last.id.clock + last.length : 0) >= n
    }, [client, clock] as const)
  }

  test('IME composition (CDP) at the end of a block while the other’s split of it and heading of its second half arrive mid-composition: committed once, ending the heading', async () => {
    const pr = await pair('ime-split')
    await caretAtEnd(pr.a, 1)
    await compose(pr.a, ['か', 'かな', 'かなも'], '仮名文字', async () => {
      // Bob splits the block Ada composes in and makes its second half a heading; it reaches her mid-composition.
      await caretAt(pr.b, 1, 6)
      await keys(pr.b, 'Enter', 'Control+Shift+Digit2')
      await waitForOutline(pr.b, [p('first line'), p('second'), h(2, ' lineか')])
      await hasAllOf(pr.a, pr.b)
    })
    await pr.a.keyboard.type(' AAA', { delay: KEY_DELAY })
    await waitForText(pr.b, '仮名文字 AAA')
    expect(await settle(pr)).toEqual([p('first line'), p('second'), h(2, ' line仮名文字 AAA')])
  })

  test('IME composition (CDP) in a block while the other’s heading of another block and typing in a third arrive mid-composition: both shown at once', async () => {
    const pr = await pair('ime-elsewhere', docOf(para('first line'), para('second line'), para('third line')))
    await caretAtEnd(pr.a, 1)
    await compose(pr.a, ['か', 'かな', 'かなも'], '仮名文字', async () => {
      await caretAt(pr.b, 0, 2)
      await keys(pr.b, 'Control+Shift+Digit1')
      await typeAtEndOf(2, ' BBB')(pr.b)
      // shown while Ada still composes
      await waitForOutline(pr.a, [h(1, 'first line'), p('second lineか'), p('third line BBB')])
    })
    expect(await settle(pr)).toEqual([h(1, 'first line'), p('second line仮名文字'), p('third line BBB')])
  })

  test('IME composition (CDP) offline at the end of a block while the other splits it and makes its second half a heading', async () => {
    const pr = await pair('ime-offline')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAtEnd(page, 1)
        await compose(page, ['か', 'かな', 'かなも'], '仮名文字')
      },
      async (page) => {
        await caretAt(page, 1, 6)
        await keys(page, 'Enter', 'Control+Shift+Digit2')
      },
      [p('first line'), p('second line仮名文字')],
      [p('first line'), p('second'), h(2, ' line')],
    )
    expect(doc).toEqual([p('first line'), p('second'), h(2, ' line仮名文字')])
  })

  test('a multi-block paste (text/html ClipboardEvent) offline while the other types in the same block', async () => {
    const pr = await pair('paste')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAt(page, 1, 6)
        await pasteHtml(page, '<p>P1</p><h2>P2 head</h2><p>P3</p>', 'P1\n\nP2 head\n\nP3')
        await page.keyboard.type('AAA', { delay: KEY_DELAY })
      },
      typeAtEndOf(1, ' BBB'),
      [p('first line'), p('secondP1'), h(2, 'P2 head'), p('P3AAA line')],
      [p('first line'), p('second line BBB')],
    )
    expect(doc).toEqual([p('first line'), p('secondP1'), h(2, 'P2 head'), p('P3AAA line BBB')])
  })

  const TREE = docOf(
    { type: 'heading', attrs: { level: 1 }, content: [text('Old title')] },
    para('old ', bold('bold'), ' text'),
    bullets(item(para('item one')), item(para('item two'))),
  )
  const TREE_OUTLINE = [h(1, 'Old title'), p('old ', b('bold'), ' text'), ul(li(p('item one')), li(p('item two')))]

  /** The block layout's markers in the room's stored state (each block's once: 4 for TREE). */
  async function storedMarkers(room: string, httpUrl = relay.httpUrl): Promise<number> {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await (await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`)).arrayBuffer()))
    const markers = (doc.getText('blocks').toDelta() as { insert: unknown }[]).filter((op) => op.insert instanceof Y.Map).length
    doc.destroy()
    return markers
  }

  test('a room in y-prosemirror\u2019s tree layout opened in two tabs at the same time is converted once', async () => {
    const room = newRoom('tree')
    const tree = prosemirrorJSONToYDoc(editorSchema, TREE)
    await post(room, Y.encodeStateAsUpdate(tree))
    const [ada, bob] = tabs.map((t) => t.page) as [Page, Page]
    await Promise.all([gotoDemo(ada, target, room, ADA), gotoDemo(bob, target, room, BOB)])
    await Promise.all([ada, bob].map((page) => waitForOutline(page, TREE_OUTLINE)))
    const pr = { a: ada, b: bob, room }
    expect(await settle(pr)).toEqual(TREE_OUTLINE)
    expect(await storedMarkers(room)).toBe(4)
    // and it is edited as a block-layout room from then on
    await ada.evaluate(() => window.tandem!.editor.view.focus())
    await typeAtEndOf(1, ' AAA')(ada)
    await waitForText(bob, 'old bold text AAA')
    expect(await settle(pr)).toEqual([h(1, 'Old title'), p('old ', b('bold'), ' text AAA'), ul(li(p('item one')), li(p('item two')))])
  })

  test('two tabs that each convert the same tree room without seeing the other\u2019s conversion write it once', async () => {
    // Two relays, not linked, both holding the tree: Ada's tab converts on one, Bob's on the
    // other, so both surely write a conversion; then each relay is given the other's state.
    const other = await startTestRelay()
    try {
      const room = newRoom('tree-twice')
      const update = Y.encodeStateAsUpdate(prosemirrorJSONToYDoc(editorSchema, TREE))
      await Promise.all([post(room, update), post(room, update, other.httpUrl)])
      const [ada, bob] = tabs.map((t) => t.page) as [Page, Page]
      await Promise.all([gotoDemo(ada, target, room, ADA), gotoDemo(bob, { ...target, relay: other.url }, room, BOB)])
      await Promise.all([ada, bob].map((page) => waitForOutline(page, TREE_OUTLINE)))
      const [fromA, fromB] = await Promise.all(
        [relay.httpUrl, other.httpUrl].map(async (url) => new Uint8Array(await (await fetch(`${url}/api/rooms/${room}/update`)).arrayBuffer())),
      )
      await Promise.all([post(room, fromB!), post(room, fromA!, other.httpUrl)])
      expect(await settle({ a: ada, b: bob, room })).toEqual(TREE_OUTLINE)
      expect(await storedMarkers(room)).toBe(4)
      expect(await storedMarkers(room, other.httpUrl)).toBe(4)
    } finally {
      await other.dispose()
    }
  })

  test('undo of a join restores the boundary and keeps the other user\u2019s words typed on both sides of it', async () => {
    const pr = await pair('undo-join')
    const doc = await offlineRound(
      pr,
      async (page) => {
        await caretAt(page, 1, 0)
        await keys(page, 'Backspace')
      },
      async (page) => {
        await typeAt(1, 0, 'BBB ')(page)
        await typeAtEndOf(1, ' CCC')(page)
        await typeAtEndOf(0, ' DDD')(page)
      },
      [p('first linesecond line')],
      [p('first line DDD'), p('BBB second line CCC')],
    )
    expect(doc).toEqual([p('first line DDDBBB second line CCC')])
    await keys(pr.a, 'Control+z')
    await waitForOutline(pr.b, [p('first line DDD'), p('BBB second line CCC')])
    expect(await settle(pr)).toEqual([p('first line DDD'), p('BBB second line CCC')])
    // Ada's redo joins again; Bob's words stay.
    await keys(pr.a, 'Control+Shift+z')
    await waitForOutline(pr.b, [p('first line DDDBBB second line CCC')])
    expect(await settle(pr)).toEqual([p('first line DDDBBB second line CCC')])
  })
})
