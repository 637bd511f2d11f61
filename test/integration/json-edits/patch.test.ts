/**
 * `PATCH /api/rooms/:room`: every operation applied as CRDT operations, seen by a connected stock
 * y-websocket client at once and as ONE update per request, attributed to the caller; an empty
 * room gets the editor's shared first marker, a tree-layout room is converted first.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type StartedRelay } from '../../fixtures/relay.ts'
import { connectProvider } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { counter, lwwRegister, mvRegister, orSet } from '../../../crdt/index.ts'
import { contentSeedUpdate } from '../../../editor/blocks/convert.ts'
import { authorOf, type Author } from '../../../relay/room/author.ts'
import { parseAuthSecrets, signToken } from '../../../relay/auth/tokens.ts'
import { docOf, editorDoc, h, p, patch, schema, seedRoom } from './helpers.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)
async function client(r: StartedRelay, room: string): Promise<{ doc: Y.Doc; provider: Awaited<ReturnType<typeof connectProvider>>['provider']; updates: () => number }> {
  const c = await connectProvider(r.url, room)
  cleanups.push(() => c.destroy())
  let updates = 0
  c.doc.on('update', () => updates++)
  return { doc: c.doc, provider: c.provider, updates: () => updates }
}

const strong = schema.marks['strong']!.create()

describe('PATCH /api/rooms/:room', () => {
  it('applies every kind of operation in one request; a connected client sees all of it in one update', async () => {
    const r = await relay()
    // heading 0..7 ("Title" at 1..6), paragraph 7..20 ("Hello world" at 8..19)
    await seedRoom(r.httpUrl, 'all', docOf(h(1, 'Title'), p('Hello world')))
    const c = await client(r, 'all')
    const list = { type: 'bullet_list', content: [{ type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }] }, { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'two' }] }] }] }
    const ops = [
      { op: 'insertText', at: 8, text: 'Big ', marks: [{ type: 'strong' }] },
      { op: 'insertText', at: 'end', text: '!' },
      { op: 'setBlockType', at: 3, type: 'heading', attrs: { level: 2 } },
      { op: 'insertBlocks', at: 'end', blocks: [list] },
      { op: 'delete', from: 1, to: 3 },
      { op: 'setKey', name: 'meta', key: 'status', value: { stage: 'draft', n: 1 } },
      { op: 'setKey', name: 'meta', key: 'gone', value: true },
      { op: 'deleteKey', name: 'meta', key: 'gone' },
      { op: 'increment', name: 'likes', by: 5 },
      { op: 'increment', name: 'likes', by: -3 },
      { op: 'increment', name: 'likes' },
      { op: 'addToSet', name: 'tags', value: 'a' },
      { op: 'addToSet', name: 'tags', value: { k: 'b' } },
      { op: 'removeFromSet', name: 'tags', value: 'a' },
      { op: 'setRegister', name: 'title', value: 'Plan' },
      { op: 'setRegister', name: 'owner', value: 'ada', kind: 'lww' },
    ]
    const res = await patch(r.httpUrl, 'all', { ops })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ ok: true, ops: ops.length })

    const expected = docOf(
      h(2, 'tle'),
      p(schema.text('Big ', [strong]), schema.text('Hello world!')),
      schema.nodeFromJSON(list),
    )
    await waitFor(() => editorDoc(c.doc).eq(expected) && counter(c.doc, 'likes').value === 3, { message: 'the client to see the edit' })
    // everything arrived together: the moment the text is there, the data is too, in one update
    expect(c.updates()).toBe(1)
    expect(c.doc.getMap('meta').toJSON()).toEqual({ status: { stage: 'draft', n: 1 } })
    expect(orSet(c.doc, 'tags').values()).toEqual([{ k: 'b' }])
    expect(mvRegister(c.doc, 'title').values).toEqual(['Plan'])
    expect(lwwRegister(c.doc, 'owner').value).toBe('ada')
    // the answer's state vector is the room's after the edit
    expect(Buffer.from(res.json['stateVector'] as string, 'base64')).toEqual(Buffer.from(Y.encodeStateVector(c.doc)))

    // and the relay reads the same document back
    const pm = await (await fetch(`${r.httpUrl}/api/rooms/all?format=prosemirror`)).json()
    expect(pm).toEqual(expected.toJSON())
  })

  it('each op sees the document the ops before it left (positions shift like a transaction’s steps)', async () => {
    const r = await relay()
    await seedRoom(r.httpUrl, 'steps', docOf(p('cd')))
    const c = await client(r, 'steps')
    const res = await patch(r.httpUrl, 'steps', {
      ops: [
        { op: 'insertText', at: 1, text: 'a' }, // "acd"
        { op: 'insertText', at: 2, text: 'b' }, // "abcd"
        { op: 'insertText', at: 5, text: 'e' }, // "abcde"
        { op: 'insertBlocks', at: 7, blocks: [{ type: 'paragraph', content: [{ type: 'text', text: 'next' }] }] },
        { op: 'insertText', at: 12, text: '!' }, // "next!"
      ],
    })
    expect(res.status).toBe(200)
    await waitFor(() => editorDoc(c.doc).eq(docOf(p('abcde'), p('next!'))), { message: 'shifted positions applied' })
  })

  it('deletes across blocks join them; a code block keeps its text; every edit is a CRDT op (a concurrent write survives)', async () => {
    const r = await relay()
    // p "one" 0..5, p "two" 5..10, p "three" 10..17
    await seedRoom(r.httpUrl, 'del', docOf(p('one'), p('two'), p('three')))
    const c = await client(r, 'del')
    // offline, a client types at the end of "three" while the HTTP edit deletes before it
    c.provider.disconnect()
    const ytext = c.doc.getText('blocks')
    ytext.insert(ytext.length, 'X')
    const res = await patch(r.httpUrl, 'del', {
      ops: [
        { op: 'delete', from: 3, to: 7 }, // "on" + "wo" joined: "onwo"
        { op: 'setBlockType', at: 8, type: 'code_block' }, // "three" → code
      ],
    })
    expect(res.status).toBe(200)
    c.provider.connect()
    const expected = docOf(p('onwo'), schema.node('code_block', null, [schema.text('threeX')]))
    await waitFor(() => editorDoc(c.doc).eq(expected), { message: 'delete, code block and the offline keystroke merged' })
    await waitFor(async () => JSON.stringify(await (await fetch(`${r.httpUrl}/api/rooms/del?format=prosemirror`)).json()) === JSON.stringify(expected.toJSON()), { message: 'the relay to hold the merge' })
  })

  it('an empty room is created with the editor’s shared first marker, so a browser typing into it at once shares the paragraph', async () => {
    const r = await relay()
    const res = await patch(r.httpUrl, 'fresh', { ops: [{ op: 'insertText', at: 1, text: 'hello' }] })
    expect(res.status).toBe(200)
    expect(await (await fetch(`${r.httpUrl}/api/rooms/fresh?format=text`)).text()).toBe('hello')
    // the same seed an editor writes before its first keystroke in an empty room
    const seed = contentSeedUpdate(schema.node('doc', null, [schema.node('paragraph')]))
    const seedClient = Y.decodeUpdate(seed).structs[0]!.id.client
    const browser = new Y.Doc()
    Y.applyUpdate(browser, seed)
    browser.getText('blocks').insert(1, 'typed ') // what the editor writes after its seed
    const c = await client(r, 'fresh')
    expect(Y.decodeStateVector(Y.encodeStateVector(c.doc)).has(seedClient)).toBe(true)
    Y.applyUpdate(c.doc, Y.encodeStateAsUpdate(browser))
    const merged = editorDoc(c.doc)
    expect(merged.childCount).toBe(1)
    expect(merged.textContent.split('').sort().join('')).toBe('typed hello'.split('').sort().join(''))
  })

  it('a room in the tree layout is converted first (the tree left as it is), then edited', async () => {
    const r = await relay()
    const tree = new Y.Doc()
    const heading = new Y.XmlElement('heading')
    heading.setAttribute('level', 1 as unknown as string)
    const text = new Y.XmlText()
    text.insert(0, 'Title')
    heading.insert(0, [text])
    tree.getXmlFragment('prosemirror').insert(0, [heading])
    await fetch(`${r.httpUrl}/api/rooms/tree/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(tree)) })
    // read as the editor would convert it
    expect(await (await fetch(`${r.httpUrl}/api/rooms/tree?format=prosemirror`)).json()).toEqual(docOf(h(1, 'Title')).toJSON())
    const res = await patch(r.httpUrl, 'tree', { ops: [{ op: 'insertText', at: 1, text: 'My ' }] })
    expect(res.status).toBe(200)
    const json = (await (await fetch(`${r.httpUrl}/api/rooms/tree`)).json()) as Record<string, unknown>
    expect(json['blocks']).toEqual(docOf(h(1, 'My Title')).toJSON())
    expect(json['prosemirror']).toEqual({ type: 'doc', content: [{ type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Title' }] }] })
  })

  it('the caller’s token is the author; one edit client id per relay process, so requests add no state-vector entries or CRDT replicas', async () => {
    const secret = 'json-edits-secret-0123456789'
    const authors: Array<Author | null> = []
    const r = await relay({ authSecret: secret, extensions: [{ name: 'authors', onUpdate: (_room, _update, origin) => void authors.push(authorOf(origin)) }] })
    const key = parseAuthSecrets(secret)[0]!
    const token = await signToken(key, { rooms: ['authored'], right: 'write', ttlSeconds: 600, sub: 'agent-7', name: 'Agent Seven' })
    for (let i = 0; i < 3; i++) {
      const res = await patch(r.httpUrl, 'authored', { ops: [{ op: 'increment', name: 'runs' }, { op: 'insertText', at: 'end', text: `${i}` }] }, token)
      expect(res.status).toBe(200)
    }
    expect(authors).toEqual([{ id: 'agent-7', name: 'Agent Seven' }, { id: 'agent-7', name: 'Agent Seven' }, { id: 'agent-7', name: 'Agent Seven' }])
    const state = await (await fetch(`${r.httpUrl}/api/rooms/authored/update?token=${token}`)).arrayBuffer()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(state))
    // the editor's seed (its own content-derived id) and this process's edit id: nothing per request
    expect(Y.decodeStateVector(Y.encodeStateVector(doc)).size).toBe(2)
    expect(counter(doc, 'runs').value).toBe(3)
    expect(counter(doc, 'runs').replicas()).toHaveLength(1)
    expect(editorDoc(doc).textContent).toBe('012')
  })
})
