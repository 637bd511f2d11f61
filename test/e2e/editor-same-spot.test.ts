/**
 * Two people typing at the same spot, in real Chromium with real keyboard input, AT THE SAME
 * TIME (both keyboards run concurrently, a key every 15 ms, so each key reaches the other tab
 * while it is typing). Each writer's words must come out whole in the converged document
 * (issue 11: stock y-prosemirror shreds them, `bealta tpwha oone`).
 *
 * One browser and one relay for the file; each test opens two fresh contexts on its own room.
 */
import { describe, expect, test } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { demoHarness } from './demo-harness.ts'
import { openDemo, editorText, sharedContent, settledHead, waitForText, waitForConvergence, type DemoTarget, type DemoUser } from './demo-page.ts'

const ADA = { name: 'Ada', color: '#e11d48' }
const BOB = { name: 'Bob', color: '#2563eb' }
const ALPHA = 'alpha one '
const BETA = 'beta two '
const KEY_DELAY = 15

const h = demoHarness()
let roomCounter = 0

/** Ada and Bob in a fresh room; Ada types `seed` (keyboard) and both wait until they see it. */
async function pair(label: string, seed = ''): Promise<[DemoUser, DemoUser]> {
  const room = `same-spot-${label}-${process.pid}-${++roomCounter}`
  const users = await Promise.all([openDemo(h.browser, h.target, room, ADA), openDemo(h.browser, h.target, room, BOB)])
  await Promise.all(users.map((u) => u.page.locator('.ProseMirror').click()))
  if (seed) {
    await users[0].page.keyboard.press('Control+Home')
    await users[0].page.keyboard.type(seed)
    const lines = seed.split('\n')
    await Promise.all(users.map((u) => waitForText(u.page, ...lines.filter(Boolean))))
    await waitForConvergence(users.map((u) => u.page))
  }
  return users
}

async function close(users: DemoUser[]): Promise<void> {
  await Promise.all(users.map((u) => u.context.close()))
}

/** Presses `keys` in order on `page`. */
async function keys(page: Page, ...sequence: string[]): Promise<void> {
  for (const key of sequence) await page.keyboard.press(key)
}


/**
 * Moves the caret to block `line` (0-based, top level), offset `offset`, with the keyboard.
 * Arrow keys may stop once more at the other user's cursor widget, so the caret is checked
 * and nudged until it is there (bounded), each time once the editor has read it.
 */
async function caretAt(page: Page, line: number, offset: number): Promise<void> {
  const target = await page.evaluate(
    ([l, o]) => {
      const doc = window.tandem!.editor.view.state.doc
      let pos = 0
      for (let i = 0; i < l; i++) pos += doc.child(i).nodeSize
      return pos + 1 + o
    },
    [line, offset] as const,
  )
  await keys(page, 'Control+Home', ...Array(line).fill('ArrowDown'), 'Home', ...Array(offset).fill('ArrowRight'))
  for (let i = 0; i < 20; i++) {
    const head = await settledHead(page)
    if (head === target) return
    await page.keyboard.press(head < target ? 'ArrowRight' : 'ArrowLeft')
  }
  throw new Error(`caret did not reach ${target}`)
}

/** Control+End, then waits until the editor's caret is at the end of the document. */
async function caretAtEnd(page: Page): Promise<void> {
  await page.keyboard.press('Control+End')
  const end = await page.evaluate(() => window.tandem!.editor.view.state.doc.content.size - 1)
  const head = await settledHead(page)
  if (head !== end) throw new Error(`Control+End put the caret at ${head}, not at the end (${end})`)
}

/** Control+b at the caret, then waits until the editor will type bold (its stored marks). */
async function boldOn(page: Page): Promise<void> {
  await page.keyboard.press('Control+b')
  await page.waitForFunction(() => window.tandem!.editor.view.state.storedMarks?.some((m) => m.type.name === 'strong') === true)
}

/** Both type at once; resolves when both keyboards are done and the pages have converged. */
async function typeTogether(a: Page, textA: string, b: Page, textB: string): Promise<string> {
  await Promise.all([a.keyboard.type(textA, { delay: KEY_DELAY }), b.keyboard.type(textB, { delay: KEY_DELAY })])
  await Promise.all([waitForText(a, textA, textB), waitForText(b, textA, textB)])
  await waitForConvergence([a, b])
  return editorText(a)
}

describe('two people typing at the same spot at the same time keep their words whole', () => {
  test('end of a paragraph', async () => {
    const [a, b] = await pair('end', 'Hello ')
    await Promise.all([caretAtEnd(a.page), caretAtEnd(b.page)])
    const text = await typeTogether(a.page, ALPHA, b.page, BETA)
    expect(text, JSON.stringify(text)).toContain(ALPHA)
    expect(text, JSON.stringify(text)).toContain(BETA)
    expect(text.length, JSON.stringify(text)).toBe('Hello '.length + ALPHA.length + BETA.length)
    await close([a, b])
  })

  test('an idle caret stays in front of text typed at it, in its own tab and as the other tab draws it', async () => {
    const [a, b] = await pair('cursor', 'Hello ')
    await Promise.all([caretAtEnd(a.page), caretAtEnd(b.page)])
    const end = 'Hello '.length + 1
    const adaCursorInBob = (): Promise<number> =>
      b.page.evaluate(() => {
        const el = [...document.querySelectorAll('.ProseMirror-yjs-cursor')].find((c) => c.textContent?.includes('Ada'))
        return el ? window.tandem!.editor.view.posAtDOM(el, 0) : -1
      })
    await b.page.waitForFunction(() => [...document.querySelectorAll('.ProseMirror-yjs-cursor')].some((c) => c.textContent?.includes('Ada')))
    expect(await adaCursorInBob()).toBe(end)
    await b.page.keyboard.type(BETA, { delay: KEY_DELAY })
    await waitForText(a.page, BETA)
    await waitForConvergence([a.page, b.page])
    expect(await a.page.evaluate(() => window.tandem!.editor.view.state.selection.head)).toBe(end)
    // Ada's caret is published as the unit after it; Bob's text at it changed that unit, so Ada
    // publishes it again and Bob draws it in front of his text once that arrives.
    await expect.poll(adaCursorInBob, { timeout: 10_000 }).toBe(end)
    await a.page.keyboard.type(ALPHA, { delay: KEY_DELAY })
    await waitForText(b.page, ALPHA)
    await waitForConvergence([a.page, b.page])
    expect(await editorText(a.page)).toBe('Hello ' + ALPHA + BETA)
    // and Bob draws it after what she typed
    await expect.poll(adaCursorInBob, { timeout: 10_000 }).toBe(end + ALPHA.length)
    await close([a, b])
  })

  test('start of a paragraph', async () => {
    const [a, b] = await pair('start', 'first line\nsecond line')
    await caretAt(a.page, 1, 0)
    await caretAt(b.page, 1, 0)
    const text = await typeTogether(a.page, ALPHA, b.page, BETA)
    const lines = text.split('\n')
    expect(lines[0], JSON.stringify(text)).toBe('first line')
    expect(lines[1], JSON.stringify(text)).toContain(ALPHA)
    expect(lines[1], JSON.stringify(text)).toContain(BETA)
    expect(lines[1]!.endsWith('second line'), JSON.stringify(text)).toBe(true)
    await close([a, b])
  })

  test('inside a word', async () => {
    const [a, b] = await pair('word', 'helloworld')
    await caretAt(a.page, 0, 5)
    await caretAt(b.page, 0, 5)
    const text = await typeTogether(a.page, ALPHA, b.page, BETA)
    expect(text.startsWith('hello'), JSON.stringify(text)).toBe(true)
    expect(text.endsWith('world'), JSON.stringify(text)).toBe(true)
    expect(text, JSON.stringify(text)).toContain(ALPHA)
    expect(text, JSON.stringify(text)).toContain(BETA)
    await close([a, b])
  })

  test('an empty document', async () => {
    const [a, b] = await pair('empty')
    const text = await typeTogether(a.page, ALPHA, b.page, BETA)
    expect(text, JSON.stringify(text)).toContain(ALPHA)
    expect(text, JSON.stringify(text)).toContain(BETA)
    await close([a, b])
  })

  test('right after Enter: two people starting new paragraphs at the same point end on separate lines', async () => {
    const [a, b] = await pair('enter', 'Title')
    await Promise.all([caretAtEnd(a.page), caretAtEnd(b.page)])
    const text = await typeTogether(a.page, '\nalpha one', b.page, '\nbeta two')
    const lines = text.split('\n')
    expect(lines[0], JSON.stringify(text)).toBe('Title')
    expect(lines, JSON.stringify(text)).toContain('alpha one')
    expect(lines, JSON.stringify(text)).toContain('beta two')
    await close([a, b])
  })

  test.each(['end', 'start'] as const)('a selection replaced while the other types at its %s edge', async (edge) => {
    const [a, b] = await pair(`selection-${edge}`, 'keep REPLACE keep')
    // The selection is set through the view (Shift+Arrow may stop once more at the other
    // user's cursor widget); what is tested, the typing, is real keyboard input.
    await caretAt(a.page, 0, 5)
    await a.page.evaluate((len) => {
      const { view } = window.tandem!.editor
      const { selection } = view.state
      const Selection = selection.constructor as unknown as { create(doc: unknown, from: number, to: number): typeof selection }
      view.dispatch(view.state.tr.setSelection(Selection.create(view.state.doc, selection.head, selection.head + len)))
    }, 'REPLACE'.length)
    await caretAt(b.page, 0, edge === 'end' ? 12 : 5)
    const selected = await a.page.evaluate(() => {
      const { state } = window.tandem!.editor.view
      return state.doc.textBetween(state.selection.from, state.selection.to)
    })
    expect(selected).toBe('REPLACE')
    const text = await typeTogether(a.page, 'alpha one', b.page, 'beta two')
    expect(text, JSON.stringify(text)).not.toContain('REPLACE')
    expect(text, JSON.stringify(text)).toContain('alpha one')
    expect(text, JSON.stringify(text)).toContain('beta two')
    expect(text.startsWith('keep '), JSON.stringify(text)).toBe(true)
    expect(text.endsWith(' keep'), JSON.stringify(text)).toBe(true)
    await close([a, b])
  })

  test.each(['from the first key', 'after Bob’s first key reached Ada'] as const)('marks: both press Control+b and type bold at the same spot, together %s', async (start) => {
    const [a, b] = await pair('bold', 'plain ')
    await Promise.all([a.page, b.page].map(async (page) => {
      await caretAtEnd(page)
      await boldOn(page)
    }))
    let betaLeft = BETA
    if (start !== 'from the first key') {
      // Ada's caret stays in front of Bob's bold letter, after plain text: the bold she turned
      // on must survive Bob's keystroke (ProseMirror drops stored marks on any change).
      await b.page.keyboard.type(BETA[0]!)
      await a.page.waitForFunction((want) => window.tandem!.editor.view.state.doc.textContent === want, 'plain ' + BETA[0])
      betaLeft = BETA.slice(1)
    }
    const text = await typeTogether(a.page, ALPHA, b.page, betaLeft)
    const xml = await sharedContent(a.page)
    expect(text, xml).toContain(ALPHA)
    expect(text, xml).toContain(BETA)
    expect(text, xml).toBe('plain ' + (text.indexOf(ALPHA) < text.indexOf(BETA) ? ALPHA + BETA : BETA + ALPHA))
    for (const page of [a.page, b.page]) {
      // What each page shows (the other user's cursor label left out): both words bold, whole;
      // the text before them plain.
      const bold = await page.evaluate(() =>
        [...document.querySelectorAll('.ProseMirror strong')]
          .map((e) => {
            const copy = e.cloneNode(true) as Element
            copy.querySelectorAll('.ProseMirror-yjs-cursor').forEach((c) => c.remove())
            return copy.textContent
          })
          .join(''),
      )
      expect(bold, xml).toBe(text.slice('plain '.length))
    }
    await close([a, b])
  })

  test('an empty room: the first text the other types is not selected, so a key does not replace it', async () => {
    // An editor mounted on an empty room has no block yet; its only selection is a select-all.
    const [a, b] = await pair('empty-room')
    await a.page.keyboard.type('plain ', { delay: KEY_DELAY })
    await waitForText(b.page, 'plain ')
    await waitForConvergence([a.page, b.page])
    expect(await b.page.evaluate(() => window.tandem!.editor.view.state.selection.empty)).toBe(true)
    await b.page.keyboard.type('bob ')
    await waitForText(a.page, 'bob ')
    await waitForConvergence([a.page, b.page])
    const text = await editorText(a.page)
    expect(text, JSON.stringify(text)).toContain('plain ')
    expect(text.length, JSON.stringify(text)).toBe('plain bob '.length)
    await close([a, b])
  })

  test('yjs/y-prosemirror#161: both edit the start of the same line at once, twice: nothing duplicated', async () => {
    const [a, b] = await pair('161', '123\n\n456')
    await caretAt(a.page, 1, 0)
    await caretAt(b.page, 1, 0)
    await typeTogether(a.page, 'xy', b.page, 'zw')
    await caretAt(a.page, 1, 0)
    await caretAt(b.page, 1, 0)
    const text = await typeTogether(a.page, 'XY', b.page, 'ZW')
    const lines = text.split('\n')
    expect(lines[0], JSON.stringify(text)).toBe('123')
    expect(lines[lines.length - 1], JSON.stringify(text)).toBe('456')
    for (const ch of 'xyzwXYZW123456') expect(text.split(ch).length - 1, JSON.stringify(text)).toBe(1)
    for (const w of ['xy', 'zw', 'XY', 'ZW']) expect(text, JSON.stringify(text)).toContain(w)
    await close([a, b])
  })
})
