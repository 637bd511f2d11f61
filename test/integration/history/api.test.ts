/**
 * The history's HTTP API on a real relay with tokens: versions recorded when the room goes quiet,
 * their authors taken from the token (never from what a client claims), a diff whose insertions
 * and deletions name who made them, named versions, and every refusal: unknown or malformed ids
 * (404), bad bodies (400), a read token that tries to write (403), no token (401).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, waitFor, type StartedRelay } from '../../fixtures/index.ts'
import { blocks, connect, docOf, hashesTo, HistoryApi, SECRET, textNodes, token } from './helpers.ts'

describe('history API', () => {
  let relay: StartedRelay
  const room = 'notes'
  let api: HistoryApi
  let reader: HistoryApi
  let alice: Awaited<ReturnType<typeof connect>>
  let bob: Awaited<ReturnType<typeof connect>>

  beforeAll(async () => {
    // a long quiet period: the first version comes from it, the others are cut by naming them
    relay = await startRelay({ authSecret: SECRET, historyQuietMs: 2000 })
    api = new HistoryApi(relay.httpUrl, room, await token(room, 'write', 'alice', 'Alice'))
    reader = api.as(await token(room, 'read', 'rita', 'Rita'))
    alice = await connect(relay.url, room, await token(room, 'write', 'alice', 'Alice'))
    bob = await connect(relay.url, room, await token(room, 'write', 'bob', 'Bob'))
    // What a client claims about itself: its awareness name, and a user field in the document.
    alice.provider.awareness.setLocalStateField('user', { name: 'Mallory', color: '#000' })
  })
  afterAll(async () => {
    alice?.destroy()
    bob?.destroy()
    await relay?.stop()
  })

  it('records a version once the room is quiet, attributed to the token\'s sub and name', async () => {
    blocks(alice.doc).insert(0, 'Hello')
    const [v1] = await api.waitVersions(1)
    expect(v1!.kind).toBe('edit')
    expect(v1!.authors).toEqual([{ id: 'alice', name: 'Alice', verified: true }])
    expect(JSON.stringify(v1)).not.toContain('Mallory')
    expect(v1!.changes).toEqual({ inserted: 5, deleted: 0 })
    expect(await api.json(v1!.id)).toEqual({ blocks: 'Hello' })
    const update = await api.update(v1!.id)
    expect(blocks(docOf(update)).toString()).toBe('Hello')
    expect(hashesTo(update, v1!.id)).toBe(true)
    // a reader may list and read
    expect((await reader.list()).map((v) => v.id)).toEqual([v1!.id])
  })

  it('attributes each insertion and deletion of a diff to the one who made it', async () => {
    const [v1] = await api.list()
    await waitFor(() => blocks(bob.doc).toString() === 'Hello', { message: 'bob has Hello' })
    blocks(bob.doc).insert(5, ' world')
    await waitFor(() => blocks(alice.doc).toString() === 'Hello world', { message: 'alice has bob\'s words' })
    blocks(alice.doc).delete(0, 1)
    await waitFor(() => blocks(bob.doc).toString() === 'ello world', { message: 'bob has alice\'s deletion' })
    // a version cut now (naming is immediate): both edits, by two authors, in one version
    const v2 = await api.name('two authors')
    expect(blocks(docOf(await api.update(v2.id))).toString()).toBe('ello world')
    expect(new Set(v2.authors.map((a) => a.id))).toEqual(new Set(['alice', 'bob']))
    expect(v2.changes).toEqual({ inserted: 6, deleted: 1 })
    const diff = await reader.diff(v2.id, v1!.id)
    const nodes = textNodes(diff.doc)
    const marked = (type: string) => nodes.filter((n) => n.marks?.some((m) => m.type === type)).map((n) => [n.text, n.marks!.find((m) => m.type === type)!.attrs])
    expect(marked('insertion')).toEqual([[' world', { author: 'bob', name: 'Bob' }]])
    expect(marked('deletion')).toEqual([['H', { author: 'alice', name: 'Alice' }]])
    expect(nodes.map((n) => n.text).join('')).toBe('Hello world')
    expect(diff.changes).toEqual({ inserted: 6, deleted: 1 })
    expect(diff.authors).toEqual(expect.arrayContaining([{ id: 'alice', name: 'Alice', verified: true }, { id: 'bob', name: 'Bob', verified: true }]))
    // backwards: what the newer version added shows as deleted, by the same author
    const back = await api.diff(v1!.id, v2.id)
    const backNodes = textNodes(back.doc)
    expect(backNodes.find((n) => n.text === ' world')!.marks).toEqual([{ type: 'deletion', attrs: { author: 'bob', name: 'Bob' } }])
    expect(backNodes.find((n) => n.text === 'H')!.marks).toEqual([{ type: 'insertion', attrs: { author: 'alice', name: 'Alice' } }])
  })

  it('names the current state; naming again with no change renames the same version', async () => {
    const before = await api.list()
    blocks(alice.doc).insert(0, 'Well, h')
    await waitFor(() => blocks(bob.doc).toString().startsWith('Well'), { message: 'bob synced' })
    const named = await api.name('Draft sent to legal')
    expect(named.name).toBe('Draft sent to legal')
    expect(named.namedBy).toEqual({ id: 'alice', name: 'Alice', verified: true })
    expect(blocks(docOf(await api.update(named.id))).toString()).toBe('Well, hello world')
    expect((await api.list()).length).toBe(before.length + 1)
    const renamed = await api.name('Final')
    expect(renamed.id).toBe(named.id)
    expect((await api.list())[0]).toMatchObject({ id: named.id, name: 'Final' })
    expect((await api.list()).length).toBe(before.length + 1)
  })

  it('refuses: unknown and malformed ids 404, bad bodies 400, a read token writing 403, no token 401', async () => {
    const [newest, older] = await api.list()
    const status = async (res: Promise<Response>) => (await res).status
    expect(await status(api.request('GET', '/0123456789abcdef'))).toBe(404)
    expect(await status(api.request('GET', '/not-an-id'))).toBe(404)
    expect(await status(api.request('GET', `/${newest!.id}x`))).toBe(404)
    expect(await status(api.request('GET', `/${newest!.id}/diff?from=0123456789abcdef`))).toBe(404)
    expect(await status(api.request('GET', `/${newest!.id}/diff?from=zz`))).toBe(404)
    expect(await status(api.request('GET', `/${newest!.id}/diff`))).toBe(400)
    expect(await status(api.request('GET', `/${newest!.id}?format=xml`))).toBe(400)
    expect(await status(api.request('POST', '/0123456789abcdef/restore'))).toBe(404)
    expect(await status(api.request('DELETE', '/0123456789abcdef'))).toBe(404)
    expect(await status(api.request('POST', '', { name: '' }))).toBe(400)
    expect(await status(api.request('POST', '', { title: 'x' }))).toBe(400)
    expect(await status(api.request('POST', '', 'not json'))).toBe(400)
    expect(await status(api.request('POST', '', { name: 'x'.repeat(201) }))).toBe(400)
    expect(await status(api.request('POST', '', { name: 42 }))).toBe(400)
    expect(await status(reader.request('POST', `/${older!.id}/restore`))).toBe(403)
    expect(await status(reader.request('POST', '', { name: 'mine' }))).toBe(403)
    expect(await status(reader.request('DELETE', `/${older!.id}`))).toBe(403)
    expect(await status(api.as(undefined).request('GET'))).toBe(401)
    expect(await status(api.as(await token('other', 'write', 'alice')).request('GET'))).toBe(403)
    const unknown = new HistoryApi(relay.httpUrl, 'never-written', await token('never-written', 'read'))
    expect(await status(unknown.request('GET'))).toBe(404)
    // nothing of it changed the document or the history
    expect(blocks(alice.doc).toString()).toBe('Well, hello world')
    expect((await api.list())[0]!.id).toBe(newest!.id)
  })

  it('deletes a named version on request; the newest only loses its name', async () => {
    const versions = await api.list()
    const middle = versions[1]!
    const res = await api.request('DELETE', `/${middle.id}`)
    expect(res.status).toBe(200)
    const after = await api.list()
    expect(after.map((v) => v.id)).toEqual(versions.filter((v) => v.id !== middle.id).map((v) => v.id))
    // every version left still shows exactly its state
    for (const v of after) expect(hashesTo(await api.update(v.id), v.id)).toBe(true)
    expect((await api.request('DELETE', `/${after[0]!.id}`)).status).toBe(200)
    const newest = (await api.list())[0]!
    expect(newest.id).toBe(after[0]!.id)
    expect(newest.name).toBeUndefined()
  })
})

describe('history on an open relay', () => {
  it('attributes edits to the name the editor announced, marked unverified', async () => {
    const relay = await startRelay({ historyQuietMs: 100 })
    const client = await connect(relay.url, 'open-room')
    try {
      client.provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#e11d48' })
      const api = new HistoryApi(relay.httpUrl, 'open-room')
      // the name reaches the relay before the edit that should carry it
      await waitFor(() => {
        const states = relay.relay.rooms.peek('open-room')?.awareness.getStates().values() ?? []
        return [...states].some((s) => (s as { user?: { name?: string } }).user?.name === 'Ada')
      }, { message: 'the relay sees the editor\'s name' })
      blocks(client.doc).insert(0, 'open text')
      const [v] = await api.waitVersions(1)
      expect(v!.authors).toEqual([{ name: 'Ada', verified: false }])
      expect(blocks(docOf(await api.update(v!.id))).toString()).toBe('open text')
    } finally {
      client.destroy()
      await relay.stop()
    }
  })

  it('is off with --history off: no versions routes', async () => {
    const relay = await startRelay({ history: false, historyQuietMs: 50 })
    const client = await connect(relay.url, 'r')
    try {
      blocks(client.doc).insert(0, 'x')
      await waitFor(async () => (await fetch(`${relay.httpUrl}/api/rooms/r`)).status === 200)
      const res = await fetch(`${relay.httpUrl}/api/rooms/r/versions`)
      expect(res.status).toBe(404)
    } finally {
      client.destroy()
      await relay.stop()
    }
  })
})

