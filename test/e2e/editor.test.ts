/**
 * The editor and the demo page in real Chromium (Debian's, via playwright-core), against
 * tandem's relay (test/fixtures startRelay, LevelDB). Each test uses its own room and fresh browser contexts (own IndexedDB).
 * The page is served by a separate static server so that it stays loadable while the relay
 * is down; the relay is restarted on the same port with the same data directory.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { mkdir } from 'node:fs/promises'
import { demoHarness } from './demo-harness.ts'
import {
  openDemo,
  waitForState,
  editorText,
  waitForText,
  waitForConvergence,
  typeAtEnd,
  textOf,
  screenshotSideBySide,
  type DemoTarget,
} from './demo-page.ts'

const ADA = { name: 'Ada', color: '#e11d48' }
const BOB = { name: 'Bob', color: '#2563eb' }

const h = demoHarness()
let roomCounter = 0
const room = (label: string): string => `${label}-${process.pid}-${++roomCounter}`

beforeAll(async () => {
  await mkdir('test-output', { recursive: true })
})

describe('collaborative editor in Chromium', () => {
  test('two users typing concurrently end with identical documents and see each other’s cursor', async () => {
    const name = room('concurrent')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    await a.page.locator('.ProseMirror').click()
    await b.page.locator('.ProseMirror').click()
    const textA = 'Ada writes the first sentence.'
    const textB = 'Bob adds another one.'
    await Promise.all([a.page.keyboard.type(textA, { delay: 5 }), b.page.keyboard.type(textB, { delay: 5 })])
    await Promise.all([waitForText(a.page, textA, textB), waitForText(b.page, textA, textB)])
    const xml = await waitForConvergence([a.page, b.page])
    expect(xml).toContain(textA)
    expect(xml).toContain(textB)
    // Each page shows the other user's caret with their name.
    await a.page.waitForSelector('.ProseMirror-yjs-cursor >> text=Bob')
    await b.page.waitForSelector('.ProseMirror-yjs-cursor >> text=Ada')
    // And both users in the presence list.
    await a.page.waitForFunction(() => document.querySelectorAll('[data-testid="presence"] li').length === 2)
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('another user’s caret inside a wrapped word has the text’s height and moves no character to another line', async () => {
    const name = room('caret-geometry')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    const words = 'caret geometry keeps every word whole across the wrapped lines of this paragraph written for the test '
    await typeAtEnd(a.page, words.repeat(3).trim())
    await waitForText(b.page, words.trim())
    // Ada's lines: each character's top, and the first word of each wrapped line.
    const layout = (page: typeof a.page): Promise<{ tops: number[]; wrapped: number[]; start: number }> =>
      page.evaluate(() => {
        const { view } = window.tandem!.editor
        let start = -1
        let size = 0
        view.state.doc.descendants((node, pos) => {
          if (start < 0 && node.isTextblock && node.textContent.startsWith('caret geometry')) {
            start = pos + 1
            size = node.content.size
          }
          return start < 0
        })
        const tops: number[] = []
        for (let i = 0; i < size; i++) tops.push(Math.round(view.coordsAtPos(start + i, 1).top))
        const text = view.state.doc.textBetween(start, start + size)
        const wrapped = tops.flatMap((top, i) => (i > 0 && top > tops[i - 1]! && text[i - 1] === ' ' ? [i] : []))
        return { tops, wrapped, start }
      })
    const before = await layout(a.page)
    expect(before.wrapped.length).toBeGreaterThan(0) // the paragraph wraps
    // Bob's caret in the middle of the first word of each wrapped line, in turn.
    for (const at of before.wrapped) {
      await b.page.evaluate((pos) => {
        const { view } = window.tandem!.editor
        view.focus()
        const Selection = view.state.selection.constructor as unknown as { create(doc: unknown, pos: number): typeof view.state.selection }
        view.dispatch(view.state.tr.setSelection(Selection.create(view.state.doc, pos)))
      }, before.start + at + 2)
      const caret = await a.page.waitForFunction(
        (pos) => {
          const { view } = window.tandem!.editor
          const el = document.querySelector<HTMLElement>('.ProseMirror-yjs-cursor')
          if (!el || view.posAtDOM(el, 0) !== pos) return null
          const r = el.getBoundingClientRect()
          const c = view.coordsAtPos(pos - 1, 1)
          return { height: r.height, text: c.bottom - c.top, left: r.left, charRight: c.right }
        },
        before.start + at + 2,
      )
      const { height, text } = (await caret.jsonValue())!
      expect(height).toBeGreaterThan(text * 0.8)
      expect(height).toBeLessThan(text * 1.5)
      expect((await layout(a.page)).tops).toEqual(before.tops)
    }
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('a hostile name and colour in another user’s awareness are drawn as text and one colour, nothing more', async () => {
    const name = room('caret-hostile')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    await typeAtEnd(a.page, 'Some text to put a caret in.')
    await waitForText(b.page, 'Some text to put a caret in.')
    const hostile = {
      name: '<img src=x onerror="window.__pwned = 1">Mallory',
      // y-prosemirror writes the colour into a style attribute: this would add a background (a tracking image)
      color: 'red; background-image: url(http://127.0.0.1:9/track.png)',
    }
    await b.page.evaluate((user) => {
      const editor = window.tandem!.editor
      editor.setUser(user)
      editor.view.focus()
    }, hostile)
    await b.page.keyboard.press('End')
    const caret = await a.page.waitForFunction((who) => {
      const el = [...document.querySelectorAll<HTMLElement>('.ProseMirror-yjs-cursor')].find((c) => c.textContent === who)
      if (!el) return null
      return {
        images: el.querySelectorAll('img').length,
        styles: [el.getAttribute('style') ?? '', el.querySelector('div')?.getAttribute('style') ?? ''],
        background: [getComputedStyle(el).backgroundImage, getComputedStyle(el.querySelector('div')!).backgroundImage],
        pwned: (window as unknown as { __pwned?: number }).__pwned ?? 0,
      }
    }, hostile.name)
    const seen = (await caret.jsonValue())!
    expect(seen.images).toBe(0)
    expect(seen.pwned).toBe(0)
    expect(seen.background).toEqual(['none', 'none'])
    for (const style of seen.styles) expect(style).not.toContain('url(')
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('an offline edit and a concurrent online edit of the same paragraph both survive', async () => {
    const name = room('offline')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    await typeAtEnd(a.page, 'Shared paragraph.')
    await waitForText(b.page, 'Shared paragraph.')

    await a.page.locator('[data-testid="offline"]').check()
    await waitForState(a.page, 'status', 'disconnected')
    await typeAtEnd(a.page, ' Ada offline.')
    await waitForState(a.page, 'saved', 'local only')
    await typeAtEnd(b.page, ' Bob online.')
    expect(await editorText(b.page)).not.toContain('Ada offline.')

    await a.page.locator('[data-testid="offline"]').uncheck()
    await waitForState(a.page, 'status', 'connected')
    await Promise.all([waitForText(a.page, 'Ada offline.', 'Bob online.'), waitForText(b.page, 'Ada offline.', 'Bob online.')])
    await waitForState(a.page, 'saved', 'saved')
    const xml = await waitForConvergence([a.page, b.page])
    expect(xml.match(/Shared paragraph\./g)).toHaveLength(1)
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('a reload while the relay is down shows the document from IndexedDB; it syncs when the relay returns', async () => {
    const name = room('reload')
    const a = await openDemo(h.browser, h.target, name, ADA)
    await typeAtEnd(a.page, 'Typed while online.')
    await waitForText(a.page, 'Typed while online.')

    await h.relay.stop()
    await waitForState(a.page, 'status', 'disconnected')
    await typeAtEnd(a.page, ' Typed while the relay was down.')
    await waitForState(a.page, 'saved', 'local only')
    await a.page.evaluate(() => window.tandem?.editor.whenStored())

    await a.page.reload()
    await a.page.waitForSelector('body[data-loaded="true"]')
    await waitForText(a.page, 'Typed while online.', 'Typed while the relay was down.')
    expect(await textOf(a.page, 'status')).not.toBe('connected')

    await h.relay.start()
    await waitForState(a.page, 'status', 'connected')
    const b = await openDemo(h.browser, h.target, name, BOB)
    await waitForText(b.page, 'Typed while online.', 'Typed while the relay was down.')
    await waitForConvergence([a.page, b.page])
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('offline clicks in two tabs: the CRDT counter keeps every click, the LWW counter loses some', async () => {
    const name = room('panel')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    for (const u of [a, b]) {
      await u.page.locator('[data-testid="offline"]').check()
      await waitForState(u.page, 'status', 'disconnected')
    }
    const clicks = async (page: typeof a.page, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await page.locator('[data-testid="like"]').click()
    }
    await clicks(a.page, 3)
    await clicks(b.page, 4)
    await a.page.locator('[data-testid="tag-input"]').fill('red')
    await a.page.locator('[data-testid="tag-input"]').press('Enter')
    await b.page.locator('[data-testid="tag-input"]').fill('blue')
    await b.page.locator('[data-testid="tag-input"]').press('Enter')
    await a.page.locator('[data-testid="title-input"]').fill('Ada’s title')
    await a.page.locator('[data-testid="title-input"]').press('Enter')
    await b.page.locator('[data-testid="title-input"]').fill('Bob’s title')
    await b.page.locator('[data-testid="title-input"]').press('Enter')
    expect(await textOf(a.page, 'likes-crdt')).toBe('3')
    expect(await textOf(b.page, 'likes-crdt')).toBe('4')

    for (const u of [a, b]) await u.page.locator('[data-testid="offline"]').uncheck()
    for (const u of [a, b]) {
      await u.page.waitForFunction(() => document.querySelector('[data-testid="likes-crdt"]')?.textContent === '7')
      await u.page.waitForFunction(() => document.querySelectorAll('[data-testid="tags-crdt"] .chip').length === 2)
      await u.page.waitForFunction(() => document.querySelectorAll('[data-testid="title-crdt"] .sibling').length === 2)
    }
    // Presence came back on both sides without waiting for the 15 s awareness renewal.
    for (const u of [a, b]) {
      await u.page.waitForFunction(() => document.querySelectorAll('[data-testid="presence"] li').length === 2)
    }
    // LWW: both tabs agree on one winner, and the other tab's clicks / tag are gone.
    await waitForConvergence([a.page, b.page])
    const lwwA = Number(await textOf(a.page, 'likes-lww'))
    const lwwB = Number(await textOf(b.page, 'likes-lww'))
    expect(lwwA).toBe(lwwB)
    expect(lwwA).toBeLessThan(7)
    expect(await a.page.locator('[data-testid="tags-lww"] .chip').count()).toBe(1)
    await screenshotSideBySide(h.browser, [a.page, b.page], 'test-output/demo-offline-clicks.png')

    // The register shows both siblings; resolving in one tab resolves everywhere.
    await a.page.locator('[data-testid="title-crdt"] button[data-resolve="Bob’s title"]').click()
    for (const u of [a, b]) {
      await u.page.waitForFunction(() => {
        const rows = document.querySelectorAll('[data-testid="title-crdt"] .sibling')
        return rows.length === 1 && rows[0]?.textContent === 'Bob’s title'
      })
    }
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('undo in one tab removes only that user’s last change', async () => {
    const name = room('undo')
    const [a, b] = await Promise.all([openDemo(h.browser, h.target, name, ADA), openDemo(h.browser, h.target, name, BOB)])
    // One input event, so one undo step whatever the machine's speed (keystrokes typed further
    // apart than the undo manager's capture timeout would be separate steps).
    await a.page.locator('.ProseMirror').click()
    await a.page.keyboard.press('Control+End')
    await a.page.keyboard.insertText('alpha')
    await waitForText(b.page, 'alpha')
    await typeAtEnd(b.page, ' bravo')
    await waitForText(a.page, 'alpha bravo')
    await a.page.locator('.ProseMirror').focus()
    await a.page.keyboard.press('Control+z')
    for (const u of [a, b]) {
      await u.page.waitForFunction(() => {
        const doc = window.tandem?.editor.view.state.doc
        return doc?.textContent === ' bravo'
      })
    }
    // Redo brings it back.
    await a.page.keyboard.press('Control+Shift+z')
    await waitForText(b.page, 'alpha bravo')
    await Promise.all([a.context.close(), b.context.close()])
  })

  test('initial content appears once when two tabs open an empty room together; relay failover; screenshot', async () => {
    const name = room('welcome')
    const failover: DemoTarget = { ...h.target, relay: ['ws://127.0.0.1:9', h.relay.url] }
    const [a, b] = await Promise.all([
      openDemo(h.browser, failover, name, ADA, { welcome: true }),
      openDemo(h.browser, h.target, name, BOB, { welcome: true }),
    ])
    await Promise.all([waitForText(a.page, 'Welcome to tandem'), waitForText(b.page, 'Welcome to tandem')])
    const xml = await waitForConvergence([a.page, b.page])
    expect(xml.match(/Welcome to tandem/g)).toHaveLength(1)

    await typeAtEnd(b.page, '\n\nBob was here, typing live.')
    await waitForText(a.page, 'Bob was here')
    await a.page.locator('[data-testid="like"]').click()
    await a.page.locator('[data-testid="tag-input"]').fill('demo')
    await a.page.locator('[data-testid="tag-input"]').press('Enter')
    await a.page.locator('[data-testid="title-input"]').fill('Release notes')
    await a.page.locator('[data-testid="title-input"]').press('Enter')
    await a.page.locator('.ProseMirror h1').click()
    await b.page.waitForSelector('.ProseMirror-yjs-cursor >> text=Ada')
    await a.page.waitForSelector('.ProseMirror-yjs-cursor >> text=Bob')
    await waitForState(a.page, 'saved', 'saved')
    await screenshotSideBySide(h.browser, [a.page, b.page], 'test-output/demo-two-users.png')
    await Promise.all([a.context.close(), b.context.close()])
  })
})
