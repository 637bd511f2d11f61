/**
 * JSON edits over HTTP while two people type, in real Chromium (the demo page, real keyboards):
 * Ada types at the end of her paragraph, Bob at the end of his, and meanwhile PATCH requests
 * insert blocks at the top, type into the START of Ada's paragraph, delete, change block types
 * and bump a counter and a set. Everything converges — both tabs and the relay hold the same
 * document — and nothing is lost or misplaced: the expected document is known exactly.
 *
 * And `tandem/client` itself in Chromium, from another origin: edit, read, follow the feed,
 * verify a webhook signature.
 */
import { describe, expect, test } from 'vitest'
import * as Y from 'yjs'
import type { Node as PMNode } from 'prosemirror-model'
import { demoHarness } from './demo-harness.ts'
import { editorSchema as schema } from '../../editor/schema.ts'
import { counter, orSet } from '../../crdt/index.ts'
import { openDemo, waitForConvergence, waitForText, type DemoTarget } from './demo-page.ts'
import { build } from 'esbuild'
import { Webhook } from 'standardwebhooks'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startRelay } from '../fixtures/relay.ts'

const ADA = { name: 'Ada', color: '#e11d48' }
const BOB = { name: 'Bob', color: '#2563eb' }
const ADA_TEXT = 'alpha bravo charlie delta echo foxtrot '
const BOB_TEXT = 'one two three four five six seven '
const KEY_DELAY = 15
/** At least this many PATCH requests, sent back to back while the keyboards run (and until they stop). */
const MIN_REQUESTS = 8

const h = demoHarness()

async function pm(room: string): Promise<PMNode> {
  return schema.nodeFromJSON(await (await fetch(`${h.relay.httpUrl}/api/rooms/${room}?format=prosemirror`)).json())
}

/** Position of the start of the content of the top-level paragraph whose text includes `marker`. */
function contentStart(doc: PMNode, marker: string): number {
  let found = -1
  doc.forEach((node, offset) => {
    if (found < 0 && node.textContent.includes(marker)) found = offset + 1
  })
  if (found < 0) throw new Error(`no paragraph holds ${JSON.stringify(marker)}`)
  return found
}

describe('JSON edits while two people type in Chromium', () => {
  test('converge with nothing lost, every edit where it was aimed', { timeout: 180_000 }, async () => {
    const room = `json-edits-${process.pid}`
    const [ada, bob] = await Promise.all([openDemo(h.browser, h.target, room, ADA), openDemo(h.browser, h.target, room, BOB)])
    // Ada's paragraph, then Bob's
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Ada: ')
    await Promise.all([waitForText(ada.page, 'Ada: '), waitForText(bob.page, 'Ada: ')])
    await bob.page.locator('.ProseMirror').click()
    await bob.page.keyboard.press('Control+End')
    await bob.page.keyboard.press('Enter')
    await bob.page.keyboard.type('Bob: ')
    await Promise.all([waitForText(ada.page, 'Bob: '), waitForText(bob.page, 'Bob: ')])
    await waitForConvergence([ada.page, bob.page])
    await ada.page.keyboard.press('Control+Home')
    await ada.page.keyboard.press('End')

    let typing = true
    const keyboards = Promise.all([ada.page.keyboard.type(ADA_TEXT, { delay: KEY_DELAY }), bob.page.keyboard.type(BOB_TEXT, { delay: KEY_DELAY })]).finally(() => (typing = false))
    let requests = 0
    let duringTyping = 0
    const edits = (async () => {
      while (typing || requests < MIN_REQUESTS) {
        const k = requests
        // Ada's paragraph start does not move between this read and the edit: only these
        // requests insert before it, and they run one after another.
        const adaAt = contentStart(await pm(room), 'Ada:')
        const label = `http block ${k}`
        const res = await fetch(`${h.relay.httpUrl}/api/rooms/${room}`, {
          method: 'PATCH',
          body: JSON.stringify({
            ops: [
              { op: 'insertText', at: adaAt, text: `«${k}»` },
              { op: 'insertBlocks', at: 0, blocks: [{ type: 'paragraph', content: [{ type: 'text', text: `${label}!!` }] }] },
              { op: 'delete', from: 1 + label.length + 1, to: 1 + label.length + 2 }, // one of the two "!"
              ...(k % 2 === 0 ? [{ op: 'setBlockType', at: 1, type: 'heading', attrs: { level: 3 } }] : []),
              { op: 'increment', name: 'patches' },
              { op: 'addToSet', name: 'seen', value: k },
            ],
          }),
        })
        expect(res.status, await res.clone().text()).toBe(200)
        requests++
        if (typing) duringTyping++
      }
    })()
    await Promise.all([keyboards, edits])
    process.stderr.write(`json-edits e2e: ${requests} PATCH requests, ${duringTyping} of them while both typed\n`)

    const blocks: PMNode[] = []
    for (let k = requests - 1; k >= 0; k--) {
      const text = schema.text(`http block ${k}!`)
      blocks.push(k % 2 === 0 ? schema.node('heading', { level: 3 }, [text]) : schema.node('paragraph', null, [text]))
    }
    const prefix = Array.from({ length: requests }, (_, i) => `«${requests - 1 - i}»`).join('')
    const expected = schema.node('doc', null, [
      ...blocks,
      schema.node('paragraph', null, [schema.text(`${prefix}Ada: ${ADA_TEXT}`)]),
      schema.node('paragraph', null, [schema.text(`Bob: ${BOB_TEXT}`)]),
    ])

    await waitForConvergence([ada.page, bob.page], 30_000)
    const shown = await Promise.all([ada, bob].map((u) => u.page.evaluate(() => window.tandem!.editor.view.state.doc.toJSON())))
    expect(shown[0]).toEqual(expected.toJSON())
    expect(shown[1]).toEqual(expected.toJSON())
    // the relay holds the same document, counter and set
    expect((await pm(room)).toJSON()).toEqual(expected.toJSON())
    const state = new Y.Doc()
    Y.applyUpdate(state, new Uint8Array(await (await fetch(`${h.relay.httpUrl}/api/rooms/${room}/update`)).arrayBuffer()))
    expect(counter(state, 'patches').value).toBe(requests)
    expect(orSet<number>(state, 'seen').values().sort((a, b) => a - b)).toEqual(Array.from({ length: requests }, (_, k) => k))
    // and so do the tabs: the counter's one slice (one replica for every request)
    const slices = await Promise.all([ada, bob].map((u) => u.page.evaluate(() => window.tandem!.editor.doc.getMap('crdt:counter:patches').size)))
    expect(slices).toEqual([1, 1])
    expect(requests).toBeGreaterThanOrEqual(MIN_REQUESTS)
    // the edits really ran while the keys were pressed
    expect(duringTyping).toBeGreaterThanOrEqual(3)
    await Promise.all([ada.context.close(), bob.context.close()])
  })
})

describe('tandem/client in Chromium', () => {
  test('edits, reads markdown, follows the feed and verifies a webhook, from a page on another origin', { timeout: 120_000 }, async () => {
    const r = await startRelay({ corsOrigins: [h.pages.url] })
    try {
      const bundle = await build({
        entryPoints: [fileURLToPath(new URL('../../client/index.ts', import.meta.url))],
        bundle: true,
        format: 'iife',
        globalName: 'TandemClientLib',
        platform: 'browser',
        write: false,
      })
      const secret = `whsec_${randomBytes(24).toString('base64')}`
      const payload = JSON.stringify({ type: 'room.changed', timestamp: new Date().toISOString(), data: { room: 'browser' } })
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', new Date(), payload) }
      const context = await h.browser.newContext()
      const page = await context.newPage()
      await page.goto(`${h.pages.url}/no-such-page`) // any page of the static server's origin
      await page.addScriptTag({ content: bundle.outputFiles[0]!.text })
      const result = await page.evaluate(
        async ({ relayUrl, secret, headers, payload }) => {
          const lib = (window as unknown as { TandemClientLib: typeof import('../../client/index.ts') }).TandemClientLib
          const tandem = new lib.TandemClient({ url: relayUrl })
          const events: string[] = []
          const stop = new AbortController()
          let opened!: () => void
          const open = new Promise<void>((resolve) => (opened = resolve))
          const following = tandem.events('browser', { signal: stop.signal, onOpen: () => opened(), onEvent: (e) => void events.push(e.type === 'changed' ? e.stateVector : e.reason) })
          await open
          const edit = await tandem.edit('browser', [{ op: 'insertText', at: 1, text: 'from a browser' }, { op: 'setBlockType', at: 1, type: 'heading', attrs: { level: 2 } }])
          const markdown = await tandem.read('browser', 'markdown')
          const deadline = Date.now() + 15_000
          while (!events.includes(edit.stateVector) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
          stop.abort()
          await following
          const webhook = lib.verifyWebhook(secret, new Headers(headers), payload)
          let tampered = ''
          try {
            lib.verifyWebhook(secret, headers, payload.replace('browser', 'other'))
          } catch (error) {
            tampered = (error as Error).name
          }
          return { markdown, sawEdit: events.includes(edit.stateVector), webhookRoom: webhook.data.room, tampered }
        },
        { relayUrl: r.httpUrl, secret, headers, payload },
      )
      expect(result).toEqual({ markdown: '## from a browser', sawEdit: true, webhookRoom: 'browser', tampered: 'WebhookVerificationError' })
      await context.close()
    } finally {
      await r.stop()
    }
  })
})
