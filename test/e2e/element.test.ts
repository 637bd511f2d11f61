/**
 * `<tandem-editor>` on a page the relay does not serve: examples/element/index.html, served by
 * a separate static server (another origin), loads editor/dist/tandem-element.js with one
 * classic script tag from the relay's origin and edits a room through it. Real Chromium,
 * tandem's relay on LevelDB; what the relay stored is read back after a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { buildEditor } from '../../editor/build.ts'
import { launchChromium } from './chromium.ts'
import { serveStatic, type StaticServer } from './static-server.ts'
import { startTestRelay, type TestRelay } from './relay.ts'

const EXAMPLE = fileURLToPath(new URL('../../examples/element/index.html', import.meta.url))

let browser: Browser
let pages: StaticServer
let relay: TestRelay
let pageDir: string
let roomCounter = 0
const room = (label: string): string => `element-${label}-${process.pid}-${++roomCounter}`

declare global {
  interface Window {
    elementEvents: Array<[string, unknown]>
  }
}

/** Writes the example page for `name` (the relay's address instead of 127.0.0.1:1234) and opens it. */
async function openExample(name: string): Promise<Page> {
  const html = (await readFile(EXAMPLE, 'utf8')).replaceAll('127.0.0.1:1234', `127.0.0.1:${relay.port}`).replace('room="notes"', `room="${name}"`)
  expect(html).toContain(`<script src="${relay.httpUrl}/tandem-element.js"></script>`)
  await writeFile(join(pageDir, `${name}.html`), html)
  const context = await browser.newContext()
  const page = await context.newPage()
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`))
  // Every event the element dispatches bubbles to the document: record them from the start.
  await page.addInitScript(() => {
    window.elementEvents = []
    for (const type of ['status', 'saved', 'synced', 'ready']) {
      document.addEventListener(type, (event) => {
        const detail = (event as CustomEvent<Record<string, unknown>>).detail
        window.elementEvents.push([type, type === 'ready' ? 'editor' : detail[type]])
      })
    }
  })
  await page.goto(`${pages.url}/${name}.html`)
  return page
}

/** The relay's document for `name`, read from storage: the relay is restarted first. */
async function storedDoc(name: string): Promise<string> {
  await relay.stop()
  await relay.start()
  const res = await fetch(`${relay.httpUrl}/api/rooms/${encodeURIComponent(name)}`)
  expect(res.status).toBe(200)
  return JSON.stringify(await res.json())
}

/** Waits until the page saw a `saving` and then ends on `saved` (every keystroke on disk). */
async function waitSavedAfterEdit(page: Page, from: number): Promise<void> {
  await page.waitForFunction((start) => {
    const saved = window.elementEvents.slice(start).filter(([type]) => type === 'saved').map(([, v]) => v)
    return saved.includes('saving') && saved.at(-1) === 'saved'
  }, from)
}

beforeAll(async () => {
  await buildEditor()
  pageDir = await mkdtemp(join(tmpdir(), 'tandem-element-page-'))
  ;[browser, pages, relay] = await Promise.all([launchChromium(), serveStatic(pageDir), startTestRelay()])
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await pages?.close()
  await relay?.dispose()
  if (pageDir) await rm(pageDir, { recursive: true, force: true })
})

describe('<tandem-editor> on another origin', () => {
  test('one script tag; typing through the element is stored by the relay; status and saved arrive as DOM events', async () => {
    const name = room('type')
    const page = await openExample(name)
    expect(new URL(page.url()).origin).not.toBe(new URL(relay.httpUrl).origin)
    await page.waitForSelector('tandem-editor[data-status="connected"] .ProseMirror')
    // The example page's own listeners show the events too.
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'connected')

    const from = await page.evaluate(() => window.elementEvents.length)
    await page.locator('tandem-editor .ProseMirror').click()
    const text = 'Typed on another origin.'
    await page.keyboard.type(text, { delay: 5 })
    await waitSavedAfterEdit(page, from)
    expect(await page.locator('[data-testid="saved"]').textContent()).toBe('saved')
    expect(await page.locator('tandem-editor .ProseMirror').textContent()).toContain(text)

    const events = await page.evaluate(() => window.elementEvents)
    expect(events).toContainEqual(['ready', 'editor'])
    expect(events).toContainEqual(['status', 'connected'])
    expect(events).toContainEqual(['synced', true])
    // The stylesheet came with the script: the toolbar is laid out by editor.css.
    expect(await page.locator('style[data-tandem-editor="tandem-editor"]').count()).toBe(1)

    // A delete-only change (Backspace moves no state vector): "saving" until it is on disk.
    const beforeDelete = await page.evaluate(() => window.elementEvents.length)
    for (let i = 0; i < 'origin.'.length; i++) await page.keyboard.press('Backspace')
    await waitSavedAfterEdit(page, beforeDelete)
    const stored = await storedDoc(name)
    expect(stored).toContain('Typed on another ')
    expect(stored).not.toContain(text)
    await page.context().close()
  })

  test('changing the room attribute (as a framework re-render does) remounts on the new room', async () => {
    const first = room('first')
    const second = room('second')
    const page = await openExample(first)
    await page.waitForSelector('tandem-editor[data-status="connected"] .ProseMirror')
    await page.locator('tandem-editor .ProseMirror').click()
    await page.keyboard.type('First room.', { delay: 5 })
    await waitSavedAfterEdit(page, 0)

    await page.evaluate((next) => document.querySelector('tandem-editor')!.setAttribute('room', next), second)
    await page.waitForFunction(() => window.elementEvents.filter(([type]) => type === 'ready').length === 2)
    await page.waitForSelector('tandem-editor[data-status="connected"] .ProseMirror')
    expect(await page.locator('tandem-editor .ProseMirror').count()).toBe(1)
    expect(await page.locator('tandem-editor .ProseMirror').textContent()).not.toContain('First room.')
    const from = await page.evaluate(() => window.elementEvents.length)
    await page.locator('tandem-editor .ProseMirror').click()
    await page.keyboard.type('Second room.', { delay: 5 })
    await waitSavedAfterEdit(page, from)

    const [storedFirst, storedSecond] = [await storedDoc(first), await storedDoc(second)]
    expect(storedFirst).toContain('First room.')
    expect(storedFirst).not.toContain('Second room.')
    expect(storedSecond).toContain('Second room.')
    expect(storedSecond).not.toContain('First room.')
    await page.context().close()
  })
})
