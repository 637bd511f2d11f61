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
