/**
 * Restore as a forward change, with real clients on a real relay: words typed while a restore
 * happens survive on top of it; restoring the version just before a restore brings everything
 * back exactly (block markers, marks and text compared as the layout's delta); a client that was
 * offline during a restore merges its offline words on top when it returns.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRelay, waitConverged, waitFor, type StartedRelay } from '../../fixtures/index.ts'
import { appendTokens, type Token } from '../../../editor/blocks/layout.ts'
import { blocks, connect, docOf, exactContent, hashesTo, HistoryApi } from './helpers.ts'

const para = (text: string, marks: Record<string, Record<string, unknown>> = {}): Token[] => [
  { kind: 'block', block: { type: 'paragraph', attrs: {}, parents: [] } },
  { kind: 'text', text, marks },
]

describe('restore', () => {
  let relay: StartedRelay | null = null
  const clients: Array<{ destroy(): void }> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    await relay?.stop()
    relay = null
  })

  it('keeps the words two other clients type while it happens, on top of the restored version', async () => {
    relay = await startRelay({ historyQuietMs: 5000 })
    const room = 'typing'
    const api = new HistoryApi(relay.httpUrl, room)
    const writer = await connect(relay.url, room)
    const b = await connect(relay.url, room)
    const c = await connect(relay.url, room)
    clients.push(writer, b, c)
    appendTokens(blocks(writer.doc), [...para('The base text of the document. '), ...para('Second paragraph.')])
    await waitConverged([writer.doc, b.doc, c.doc])
    const base = await api.name('base')
    const baseText = blocks(writer.doc).toString()

    /** Whether `doc` holds the restore: its first typed word (in the relay long before the restore) is gone. */
    const sawRestore = (doc: Y.Doc, name: string): boolean => restoring && !blocks(doc).toString().includes(`${name}0 `)
    const typed = { b: [] as string[], c: [] as string[] }
    const after = { b: [] as string[], c: [] as string[] }
    let restoring = false
    let restored = false
    let stop = false
    /** Types words into `doc` (b: at the end, c: at the start) every few ms; `after` gets those typed once the restore arrived. */
    const typist = async (name: 'b' | 'c', doc: Y.Doc): Promise<void> => {
      let afterCount = 0
      for (let i = 0; !stop || afterCount < 10; i++) {
        const word = `${name}${i} `
        const seen = sawRestore(doc, name)
        const text = blocks(doc)
        if (name === 'b') text.insert(text.length, word)
        else text.insert(1, word) // after the first block marker
        typed[name].push(word)
        if (seen) {
          after[name].push(word)
          afterCount++
        }
        await new Promise((r) => setTimeout(r, 5))
        if (afterCount >= 10 && restored) break
      }
    }
    const typing = Promise.all([typist('b', b.doc), typist('c', c.doc)])
    await waitFor(() => typed.b.length >= 15 && typed.c.length >= 15, { message: 'both typing' })
    restoring = true
    const result = await api.restore(base.id)
    restored = true
    expect(result.restored).toBe(true)
    expect(result.version.kind).toBe('restore')
    expect(result.version.restoredFrom).toBe(base.id)
    stop = true
    await typing
    await waitConverged([writer.doc, b.doc, c.doc])
    const final = blocks(writer.doc).toString()
    expect(blocks(b.doc).toString()).toBe(final)
    expect(blocks(c.doc).toString()).toBe(final)
    // every word typed after a client saw the restore is there, once
    for (const word of [...after.b, ...after.c]) expect(final.split(word).length - 1).toBe(1)
    expect(after.b.length).toBeGreaterThanOrEqual(10)
    expect(after.c.length).toBeGreaterThanOrEqual(10)
    // and without every typed word, the document is the restored version exactly
    expect(final.replace(/[bc]\d+ /g, '')).toBe(baseText)
    // what the relay held when it restored (the version just before) lost its typed words
    expect(result.before).not.toBeNull()
    const before = blocks(docOf(await api.update(result.before!.id))).toString()
    const removed = (before.match(/[bc]\d+ /g) ?? []).filter((w) => !final.includes(w))
    expect(removed.length).toBeGreaterThan(0)
    expect(hashesTo(await api.update(result.version.id), result.version.id)).toBe(true)
  })

  it('restoring the version just before a restore brings everything back, exactly', async () => {
    relay = await startRelay({ historyQuietMs: 5000 })
    const room = 'round-trip'
    const api = new HistoryApi(relay.httpUrl, room)
    const a = await connect(relay.url, room)
    const b = await connect(relay.url, room)
    clients.push(a, b)
    const text = blocks(a.doc)
    appendTokens(text, [...para('First paragraph, plain.'), ...para('Second, ', {}), { kind: 'text', text: 'bold', marks: { strong: {} } }])
    await waitConverged([a.doc, b.doc])
    const v1 = await api.name('v1')
    const v1Content = exactContent(a.doc)
    // later work of two people: text, formatting, a new block, a block type change, deletions
    text.insert(6, 'and longer ')
    text.format(0, 5, { em: {} })
    await waitConverged([a.doc, b.doc])
    const bText = blocks(b.doc)
    appendTokens(bText, [{ kind: 'block', block: { type: 'heading', attrs: { level: 2 }, parents: [] } }, { kind: 'text', text: 'A heading by b', marks: {} }])
    bText.delete(bText.length - 4, 2)
    await waitConverged([a.doc, b.doc])
    const marker = text.toDelta().find((op: { insert: unknown }) => op.insert instanceof Y.Map)?.insert as Y.Map<unknown>
    marker.set('type', 'heading')
    marker.set('attrs', { level: 1 })
    await waitConverged([a.doc, b.doc])
    const laterContent = exactContent(a.doc)
    const laterText = text.toString()
    expect(laterContent).not.toBe(v1Content)

    const first = await api.restore(v1.id)
    await waitFor(() => exactContent(b.doc) === v1Content, { message: 'b shows v1' })
    expect(exactContent(a.doc)).toBe(v1Content)
    // the later work was recorded as the version just before the restore
    expect(first.before).not.toBeNull()
    expect(exactContent(docOf(await api.update(first.before!.id)))).toBe(laterContent)

    const second = await api.restore(first.before!.id)
    expect(second.restored).toBe(true)
    await waitFor(() => exactContent(a.doc) === laterContent && exactContent(b.doc) === laterContent, { message: 'everything back' })
    expect(text.toString()).toBe(laterText)
    expect(blocks(b.doc).toString()).toBe(laterText)
    const versions = await api.list()
    expect(versions.slice(0, 3).map((v) => v.kind)).toEqual(['restore', 'restore', 'edit'])
    // restoring what the document already shows writes nothing
    const again = await api.restore(second.version.id)
    expect(again.restored).toBe(false)
    expect((await api.list()).length).toBe(versions.length)
  })

  it('merges a client that was offline during the restore on top of it', async () => {
    relay = await startRelay({ historyQuietMs: 5000 })
    const room = 'offline'
    const api = new HistoryApi(relay.httpUrl, room)
    const online = await connect(relay.url, room)
    const traveller = await connect(relay.url, room)
    clients.push(online, traveller)
    appendTokens(blocks(online.doc), para('Kept text.'))
    await waitConverged([online.doc, traveller.doc])
    const v1 = await api.name('before the trip')
    traveller.provider.disconnect()
    // offline: the traveller writes; online, someone else writes and then restores v1
    const t = blocks(traveller.doc)
    t.insert(t.length, ' Written on the train.')
    t.insert(1, 'Train note: ')
    blocks(online.doc).insert(blocks(online.doc).length, ' Online words to be undone.')
    await waitFor(async () => blocks(docOf(await (await fetch(`${relay!.httpUrl}/api/rooms/${room}/update`)).arrayBuffer().then((b) => new Uint8Array(b)))).toString().includes('Online words'), { message: 'online words stored' })
    const result = await api.restore(v1.id)
    await waitFor(() => blocks(online.doc).toString() === 'Kept text.', { message: 'restore reached the online client' })
    traveller.provider.connect()
    await waitConverged([online.doc, traveller.doc])
    const final = blocks(online.doc).toString()
    expect(blocks(traveller.doc).toString()).toBe(final)
    expect(final).toBe('Train note: Kept text. Written on the train.')
    // the restore's version still shows v1; the room's next version will hold the traveller's words
    expect(blocks(docOf(await api.update(result.version.id))).toString()).toBe('Kept text.')
  })
})
