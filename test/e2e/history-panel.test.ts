/**
 * The history panel of the demo page, in Chromium, two users in their own browser contexts on an
 * open relay that serves the page: Ada writes and names a version; Bob deletes a word; in Ada's
 * panel the newest version's preview shows that word deleted, marked with Bob's name and drawn in
 * Bob's colour; Ada restores the named version, and Bob's window shows the word again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { buildEditor } from '../../editor/build.ts'
import { startRelay, type StartedRelay } from '../fixtures/index.ts'
import { launchChromium } from './chromium.ts'
import { openDemo, waitForText, type DemoTarget } from './demo-page.ts'

let browser: Browser
let relay: StartedRelay
let target: DemoTarget

beforeAll(async () => {
  const { distDir } = await buildEditor()
  ;[browser, relay] = await Promise.all([launchChromium(), startRelay({ static: distDir, historyQuietMs: 60_000 })])
  // the page comes from the relay itself: its history API is same-origin, its token the relay's demo token
  target = { pageUrl: relay.httpUrl, relay: relay.url }
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

/** The editor's text. */
const text = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const doc = window.tandem!.editor.view.state.doc
    return doc.textBetween(0, doc.content.size, '\n')
  })

describe('history panel', () => {
  test('a preview shows another user\'s deletion in their colour; a restore reaches the other window', async () => {
    const room = `history-panel-${process.pid}`
    const ada = await openDemo(browser, target, room, { name: 'Ada', color: '#e11d48' })
    const bob = await openDemo(browser, target, room, { name: 'Bob', color: '#2563eb' })
    try {
      await ada.page.locator('.ProseMirror').first().click()
      await ada.page.keyboard.type('Hello brave new world')
      await waitForText(bob.page, 'Hello brave new world')
      // Ada names the document as it is (the panel's form)
      await ada.page.locator('[data-testid="history-name"]').fill('First draft')
      await ada.page.locator('[data-testid="history-name-form"] button').click()
      await ada.page.waitForFunction(() => document.querySelector('[data-testid="history-list"]')?.textContent?.includes('First draft'))

      // Bob deletes "brave " (an editor transaction, as a selection and Delete would make)
      await bob.page.evaluate(() => {
        const view = window.tandem!.editor.view
        let at = -1
        view.state.doc.descendants((node, pos) => {
          if (at < 0 && node.isText && node.text!.includes('brave ')) at = pos + node.text!.indexOf('brave ')
        })
        view.dispatch(view.state.tr.delete(at, at + 'brave '.length))
      })
      await waitForText(ada.page, 'Hello new world')
      expect(await text(ada.page)).not.toContain('brave')
      await bob.page.locator('[data-testid="history-name"]').fill('Cut')
      await bob.page.locator('[data-testid="history-name-form"] button').click()

      // Ada's panel: the newest version's preview shows Bob's deletion, in Bob's colour
      await ada.page.waitForFunction(async () => {
        await window.tandem!.editor.history!.refresh()
        return document.querySelector('[data-testid="history-list"]')?.textContent?.includes('Cut')
      })
      await ada.page.locator('[data-testid="history-list"] li').first().locator('button').click()
      const deletion = ada.page.locator('[data-testid="history-preview"] del.tandem-deletion')
      await deletion.first().waitFor()
      expect(await deletion.allTextContents()).toEqual(['brave '])
      expect(await deletion.first().getAttribute('title')).toBe('Bob')
      expect(await deletion.first().getAttribute('style')).toContain('#2563eb')
      expect(await ada.page.locator('[data-testid="history-preview"] ins').count()).toBe(0)
      // the preview is read-only
      expect(await ada.page.locator('[data-testid="history-preview"] .ProseMirror').getAttribute('contenteditable')).toBe('false')
      // the list names the author of each version (unverified: an open relay)
      expect(await ada.page.locator('[data-testid="history-list"] li').first().textContent()).toContain('Bob (unverified)')

      // Ada restores "First draft": Bob's window shows the word again
      const first = ada.page.locator('[data-testid="history-list"] li', { hasText: 'First draft' })
      await first.locator('button').click()
      await ada.page.locator('[data-testid="history-preview-title"]', { hasText: 'First draft' }).waitFor()
      await ada.page.locator('[data-testid="history-restore"]').click()
      await waitForText(bob.page, 'Hello brave new world')
      await waitForText(ada.page, 'Hello brave new world')
      expect(await text(bob.page)).toBe('Hello brave new world')
      await ada.page.waitForFunction(() => document.querySelector('[data-testid="history-list"] li')?.textContent?.includes('Restored'))
      expect(await ada.page.locator('[data-testid="history-error"]').isHidden()).toBe(true)
    } finally {
      await Promise.all([ada.context.close(), bob.context.close()])
    }
  }, 120_000)
})
