/**
 * What the demo page does per keystroke besides the editor, in Chromium: on a long document each
 * DOM change outside the editor cost a layout and a compositor commit per key (see the README's
 * "Editor costs"). While a user types, with someone else in the room:
 * - the presence list is not rebuilt (its elements stay the same nodes; awareness changes with
 *   every caret move);
 * - the saved indicator shows `saving` for the burst and does not flip back to `saved` between
 *   keys, and it does show `saved` once the typing pauses and the relay has stored everything;
 * - the presence list still changes when someone joins or renames.
 */
import { describe, expect, test } from 'vitest'
import { demoHarness } from './demo-harness.ts'
import { openDemo, typeAtEnd, waitForState, waitForText, type DemoTarget } from './demo-page.ts'

const h = demoHarness()

describe('demo page work per keystroke', () => {
  test('typing rebuilds neither the presence list nor flips the saved indicator per key; both still update', async () => {
    const room = `keystroke-work-${process.pid}`
    const a = await openDemo(h.browser, h.target, room, { name: 'Ada', color: '#e11d48' })
    const b = await openDemo(h.browser, h.target, room, { name: 'Bob', color: '#2563eb' })
    try {
      await a.page.waitForFunction(() => document.querySelectorAll('[data-testid="presence"] li').length === 2, null, { timeout: 30_000 })
      await typeAtEnd(a.page, 'Warm up.')
      await waitForState(a.page, 'saved', 'saved')
      // mark the list's elements, and count every change of the indicator's state
      await a.page.evaluate(() => {
        document.querySelectorAll('[data-testid="presence"] li').forEach((li) => ((li as HTMLElement & { __marked?: boolean }).__marked = true))
        const w = window as unknown as { __savedStates: string[] }
        w.__savedStates = []
        const pill = document.querySelector('[data-testid="saved"]')!
        new MutationObserver(() => w.__savedStates.push(pill.getAttribute('data-state') ?? '')).observe(pill, { attributes: true, attributeFilter: ['data-state'] })
      })
      // a typist's pace: each key is stored by the relay (100 ms flushes) before the next one
      const burst = ' Typed at a steady pace.'
      await a.page.keyboard.type(burst, { delay: 150 })
      await waitForText(b.page, burst.trim())
      const during = await a.page.evaluate(() => ({
        states: [...(window as unknown as { __savedStates: string[] }).__savedStates],
        marked: [...document.querySelectorAll('[data-testid="presence"] li')].every((li) => (li as HTMLElement & { __marked?: boolean }).__marked === true),
      }))
      // the old indicator flipped twice per key (saving, then saved when the relay had it)
      expect(during.states.length).toBeLessThan(burst.length / 3)
      expect(during.states[0]).toBe('saving')
      expect(during.marked).toBe(true)
      // after the pause the indicator says saved (the relay has stored everything)
      await waitForState(a.page, 'saved', 'saved')
      expect(await a.page.evaluate(() => window.tandem!.editor.saved)).toBe('saved')

      // someone renaming still shows
      await b.page.locator('[data-testid="name"]').fill('Bobby')
      await b.page.locator('[data-testid="name"]').dispatchEvent('change')
      await a.page.waitForFunction(() => document.querySelector('[data-testid="presence"]')?.textContent?.includes('Bobby'), null, { timeout: 30_000 })
    } finally {
      await Promise.all([a.context.close(), b.context.close()])
    }
  })
})
