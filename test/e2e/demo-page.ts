/**
 * Driving the demo page from a test: open it for a user in its own browser context (its own
 * IndexedDB and storage), read the document, wait on DOM conditions (never on time).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'

/** Where a demo page is loaded from and which relay(s) it talks to. */
export interface DemoTarget {
  /** Static server base URL serving editor/dist. */
  pageUrl: string
  /** Relay URL(s), passed as `?relay=` (comma-separated). */
  relay: string | string[]
}

/** One user's demo tab. */
export interface DemoUser {
  context: BrowserContext
  page: Page
}

/** Query string of the demo for `room` and `user`. */
export function demoUrl(target: DemoTarget, room: string, name: string, color: string, welcome = false): string {
  const relay = Array.isArray(target.relay) ? target.relay.join(',') : target.relay
  const q = new URLSearchParams({ room, relay, name, color })
  if (!welcome) q.set('welcome', '0')
  return `${target.pageUrl}/?${q}`
}

/** Opens the demo in a fresh browser context and waits until it is mounted. */
export async function openDemo(
  browser: Browser,
  target: DemoTarget,
  room: string,
  user: { name: string; color: string },
  options: { welcome?: boolean; waitConnected?: boolean } = {},
): Promise<DemoUser> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  const page = await context.newPage()
  page.on('pageerror', (err) => process.stderr.write(`[${user.name}] page error: ${err.message}\n`))
  await page.goto(demoUrl(target, room, user.name, user.color, options.welcome ?? false))
  await page.waitForSelector('body[data-ready="true"]')
  if (options.waitConnected ?? true) await waitForState(page, 'status', 'connected')
  return { context, page }
}

/** Waits until the indicator `testId` (status / saved) shows `state`. */
export async function waitForState(page: Page, testId: 'status' | 'saved', state: string): Promise<void> {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-state') === want,
    [testId, state] as const,
  )
}

/** The editor's plain text (block texts joined with newlines). */
export async function editorText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const doc = window.tandem?.editor.view.state.doc
    return doc ? doc.textBetween(0, doc.content.size, '\n') : ''
  })
}

/**
 * The shared Yjs content of the page's editor (the block layout's Y.Text): its text with a line
 * break per block marker, then its full delta (marks and markers' fields). Identical strings mean
 * identical documents.
 */
export async function sharedContent(page: Page): Promise<string> {
  return page.evaluate(() => {
    const ytext = window.tandem?.editor.doc.getText('blocks')
    if (!ytext) return ''
    const delta = ytext.toDelta() as { insert: unknown }[]
    return delta.map((op) => (typeof op.insert === 'string' ? op.insert : '\n')).join('') + '\u0000' + JSON.stringify(delta)
  })
}

/** Waits until the editor text satisfies `includes` (every string present). */
export async function waitForText(page: Page, ...includes: string[]): Promise<void> {
  await page.waitForFunction((parts) => {
    const doc = window.tandem?.editor.view.state.doc
    const text = doc ? doc.textBetween(0, doc.content.size, '\n') : ''
    return parts.every((p) => text.includes(p))
  }, includes)
}

/** Waits until all pages hold identical shared content and returns its text (a line per block). */
export async function waitForConvergence(pages: Page[], deadlineMs = 15_000): Promise<string> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const xmls = await Promise.all(pages.map(sharedContent))
    if (xmls.every((x) => x === xmls[0])) return (xmls[0] ?? '').split('\u0000')[0] ?? ''
    if (Date.now() > deadline) throw new Error(`pages did not converge:\n${xmls.join('\n---\n')}`)
    // Each page round trip is the poll interval; the pages themselves are never put to sleep.
    await Promise.all(pages.map((p) => p.evaluate(() => new Promise((r) => requestAnimationFrame(r)))))
  }
}

/** Clicks at the end of the document and types `text` with a per-key delay. */
export async function typeAtEnd(page: Page, text: string, delay = 0): Promise<void> {
  await page.locator('.ProseMirror').click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text, { delay })
}

/** Text of an element by test id. */
export async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.locator(`[data-testid="${testId}"]`).textContent()) ?? ''
}

/** Writes one PNG showing the given pages side by side (each captured at its viewport). */
export async function screenshotSideBySide(browser: Browser, pages: Page[], path: string): Promise<void> {
  const shots = await Promise.all(pages.map((p) => p.screenshot()))
  const width = 1280 * pages.length
  const context = await browser.newContext({ viewport: { width, height: 820 } })
  const board = await context.newPage()
  const imgs = shots
    .map((png) => `<img src="data:image/png;base64,${png.toString('base64')}" style="width:1280px;height:820px;display:block">`)
    .join('<div style="width:2px;background:#94a3b8"></div>')
  await board.setContent(`<body style="margin:0;display:flex;background:#fff">${imgs}</body>`)
  await board.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0))
  await board.screenshot({ path, clip: { x: 0, y: 0, width: width + 2 * (pages.length - 1), height: 820 } })
  await context.close()
}

/**
 * Ticks or unticks the demo's "Work offline" switch, waits until the tab is (dis)connected, and
 * gives the editor the focus back.
 */
export async function setOffline(page: Page, offline: boolean): Promise<void> {
  const box = page.locator('[data-testid="offline"]')
  if (offline) await box.check()
  else await box.uncheck()
  await waitForState(page, 'status', offline ? 'disconnected' : 'connected')
  // The click moved the focus to the switch; keys go to the editor again (its selection kept).
  await page.evaluate(() => window.tandem!.editor.view.focus())
}

/** A ProseMirror node as JSON (what `doc.toJSON()` and `GET /api/rooms/:room?format=prosemirror` give). */
export interface PMJson {
  type: string
  attrs?: Record<string, unknown>
  content?: PMJson[]
  text?: string
  marks?: { type: string; attrs?: Record<string, unknown> }[]
}

const OUTLINE_MARKS: Record<string, string> = { strong: 'b', em: 'i', code: 'code', link: 'a' }
const OUTLINE_NODES: Record<string, string> = {
  paragraph: 'p',
  bullet_list: 'ul',
  ordered_list: 'ol',
  list_item: 'li',
  blockquote: 'quote',
  code_block: 'pre',
}
const OUTLINE_LEAVES: Record<string, string> = { horizontal_rule: 'hr', hard_break: 'br', image: 'img' }

/**
 * A node as a short exact string: `p("plain ", b("bold"))`, `h2("title")`, `ul(li(p("item")))`;
 * every block type, heading level, container and mark shows, so equal outlines are equal documents
 * (link targets and image sources aside).
 */
export function outline(node: PMJson): string {
  if (node.type === 'text') {
    let s = JSON.stringify(node.text ?? '')
    for (const mark of node.marks ?? []) s = `${OUTLINE_MARKS[mark.type] ?? mark.type}(${s})`
    return s
  }
  const leaf = OUTLINE_LEAVES[node.type]
  if (leaf) return leaf
  const name = node.type === 'heading' ? `h${String(node.attrs?.['level'])}` : (OUTLINE_NODES[node.type] ?? node.type)
  return `${name}(${(node.content ?? []).map(outline).join(', ')})`
}

/** The page editor's document, one {@link outline} per top-level block. */
export async function docOutline(page: Page): Promise<string[]> {
  const json = (await page.evaluate(() => window.tandem!.editor.view.state.doc.toJSON())) as PMJson
  return (json.content ?? []).map(outline)
}

/**
 * The caret once the editor has read the DOM selection (a key moves the DOM selection; ProseMirror
 * reads it on a later `selectionchange`): waits until the state's head is where the DOM focus is.
 */
export async function settledHead(page: Page): Promise<number> {
  const handle = await page.waitForFunction(() => {
    const { view } = window.tandem!.editor
    const sel = document.getSelection()
    if (!sel?.focusNode || !view.dom.contains(sel.focusNode)) return null
    const { head } = view.state.selection
    return view.posAtDOM(sel.focusNode, sel.focusOffset, 1) === head ? head : null
  })
  return (await handle.jsonValue()) as number
}

/** Position of offset `offset` in the `index`-th textblock (document order, nested ones included). */
export async function textblockPos(page: Page, index: number, offset: number): Promise<number> {
  return page.evaluate(
    ([i, o]) => {
      const doc = window.tandem!.editor.view.state.doc
      let n = 0
      let found = -1
      doc.descendants((node, pos) => {
        if (found >= 0) return false
        if (!node.isTextblock) return true
        if (n++ === i) found = pos + 1 + o
        return false
      })
      if (found < 0) throw new Error(`no textblock ${i}`)
      return found
    },
    [index, offset] as const,
  )
}

/**
 * Moves the caret with the keyboard to offset `offset` of the `index`-th textblock (each short
 * block is one line): Control+Home, ArrowDown, Home, ArrowRight; then nudges it (an arrow may stop
 * once more at another user's cursor widget), each time once the editor has read it.
 */
export async function caretAt(page: Page, index: number, offset: number): Promise<void> {
  const want = await textblockPos(page, index, offset)
  const sequence = ['Control+Home', ...Array<string>(index).fill('ArrowDown'), 'Home', ...Array<string>(offset).fill('ArrowRight')]
  for (const key of sequence) await page.keyboard.press(key)
  for (let i = 0; i < 40; i++) {
    const head = await settledHead(page)
    if (head === want) return
    await page.keyboard.press(head < want ? 'ArrowRight' : 'ArrowLeft')
  }
  throw new Error(`caret did not reach ${want}`)
}

/**
 * Pastes as the browser does: a `paste` ClipboardEvent whose DataTransfer holds `html` (and its
 * plain-text form), dispatched on the editor, which reads it as ProseMirror reads a real paste.
 */
export async function pasteHtml(page: Page, html: string, text: string): Promise<void> {
  await page.evaluate(
    ([h, t]) => {
      const data = new DataTransfer()
      data.setData('text/html', h)
      data.setData('text/plain', t)
      const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
      window.tandem!.editor.view.dom.dispatchEvent(event)
    },
    [html, text] as const,
  )
}

/**
 * Loads the demo for `room` in an existing tab (faster than a new context: the tab is reused, its
 * IndexedDB holds other rooms only) and waits until it is mounted and connected.
 */
export async function gotoDemo(page: Page, target: DemoTarget, room: string, user: { name: string; color: string }): Promise<void> {
  await page.goto(demoUrl(target, room, user.name, user.color))
  await page.waitForSelector('body[data-ready="true"]')
  await waitForState(page, 'status', 'connected')
}
