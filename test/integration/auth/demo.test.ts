/**
 * The demo page in real Chromium, served by the relay itself: on an open relay it asks the
 * relay for a token (`?right=read` gets a read-only one); on a relay with a secret it passes
 * `?token=` on, and without one it is refused before any document byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { buildEditor } from '../../../editor/build.ts'
import { launchChromium } from '../../e2e/chromium.ts'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { SECRET, token } from './helpers.ts'
import { BLOCKS_TEXT } from '../../../editor/blocks/layout.ts'

let browser: Browser
let distDir: string
const relays: StartedRelay[] = []

beforeAll(async () => {
  ;({ distDir } = await buildEditor())
  browser = await launchChromium()
}, 120_000)
afterAll(async () => {
  await browser?.close()
  for (const r of relays) await r.stop()
})

async function relay(opts: Parameters<typeof startRelay>[0] = {}): Promise<StartedRelay> {
  const r = await startRelay({ static: distDir, ...opts })
  relays.push(r)
  return r
}

async function open(r: StartedRelay, query: Record<string, string>): Promise<Page> {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${r.httpUrl}/?${new URLSearchParams({ welcome: '0', name: 'T', color: '#e11d48', ...query })}`)
  await page.waitForSelector('body[data-ready="true"]')
  return page
}

async function type(page: Page, text: string): Promise<void> {
  await page.locator('.ProseMirror').click()
  await page.keyboard.type(text)
}

const roomText = (r: StartedRelay, room: string): string => {
  const doc = r.relay.rooms.peek(room)?.doc
  return doc ? doc.getText(BLOCKS_TEXT).toString() : ''
}

describe('demo page tokens', () => {
  it('open relay: the page gets a token from the relay; a read-only one keeps its typing local', async () => {
    const r = await relay()
    const writer = await open(r, { room: 'demo-open' })
    await page(writer).waitConnected()
    await type(writer, 'written')
    await waitFor(() => roomText(r, 'demo-open').includes('written'))
    const reader = await open(r, { room: 'demo-open', right: 'read' })
    await page(reader).waitConnected()
    await reader.waitForFunction(() => document.querySelector('.ProseMirror')?.textContent?.includes('written'))
    await type(reader, 'READER')
    await reader.waitForFunction(() => document.querySelector('.ProseMirror')?.textContent?.includes('READER'))
    // Round trip through the relay: a later write by the writer arrives, the reader's never did.
    await type(writer, ' again')
    await waitFor(() => roomText(r, 'demo-open').includes('again'))
    await reader.waitForFunction(() => document.querySelector('.ProseMirror')?.textContent?.includes('again'))
    expect(roomText(r, 'demo-open')).not.toContain('READER')
  }, 60_000)

  it('relay with a secret: ?token= is passed on; a page without one is refused and sees nothing', async () => {
    const r = await relay({ authSecret: SECRET })
    const refused = await open(r, { room: 'demo-closed' })
    const withToken = await open(r, { room: 'demo-closed', token: await token({ rooms: ['demo-closed'] }) })
    await page(withToken).waitConnected()
    await type(withToken, 'signed')
    await waitFor(() => roomText(r, 'demo-closed').includes('signed'))
    const status = await refused.locator('[data-testid="status"]').getAttribute('data-state')
    expect(status).not.toBe('connected')
    expect(await refused.evaluate(() => document.querySelector('.ProseMirror')?.textContent ?? '')).not.toContain('signed')
  }, 60_000)
})

function page(p: Page): { waitConnected(): Promise<void> } {
  return {
    waitConnected: async () => {
      await p.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-state') === 'connected')
    },
  }
}
