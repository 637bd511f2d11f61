import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { editorSchema } from '../../../editor/schema.ts'
import { conversionUpdate, seedUpdate } from '../../../editor/blocks/convert.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

function richDoc(): Y.Doc {
  const doc = new Y.Doc()
  doc.getText('title').insert(0, 'Hello')
  doc.getMap('meta').set('owner', 'ada')
  doc.getArray('tags').push(['a', 'b'])
  const fragment = doc.getXmlFragment('prosemirror')
  const heading = new Y.XmlElement('heading')
  heading.setAttribute('level', 1 as unknown as string)
  const text = new Y.XmlText()
  text.insert(0, 'Title')
  heading.insert(0, [text])
  const paragraph = new Y.XmlElement('paragraph')
  const body = new Y.XmlText()
  body.insert(0, 'plain ')
  body.insert(6, 'bold', { strong: {} })
  body.insert(10, ' link', { link: { href: 'https://example.org' } })
  paragraph.insert(0, [body])
  fragment.insert(0, [heading, paragraph])
  return doc
}

describe('HTTP API', () => {
  it('health, and static files refuse path traversal', async () => {
    const r = await relay()
    const health = await r.relay.app.request('/health')
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ ok: true, status: 'ok', components: {} })
    const traversal = await fetch(`${r.httpUrl}/..%2f..%2fpackage.json`)
    expect(traversal.status).toBeGreaterThanOrEqual(400)
  })

  it('POST an update, GET it back as binary and as JSON (app.request and real HTTP)', async () => {
    const r = await relay()
    const source = richDoc()
    const posted = await r.relay.app.request('/api/rooms/api-room/update', {
      method: 'POST',
      body: Buffer.from(Y.encodeStateAsUpdate(source)),
      headers: { 'content-type': 'application/octet-stream' },
    })
    expect(posted.status).toBe(200)
    const binary = await fetch(`${r.httpUrl}/api/rooms/api-room/update`)
    expect(binary.status).toBe(200)
    expect(binary.headers.get('content-type')).toBe('application/octet-stream')
    const copy = new Y.Doc()
    Y.applyUpdate(copy, new Uint8Array(await binary.arrayBuffer()))
    expect(copy.getText('title').toString()).toBe('Hello')
    const json = await (await fetch(`${r.httpUrl}/api/rooms/api-room`)).json()
    expect(json).toEqual({
      title: 'Hello',
      meta: { owner: 'ada' },
      tags: ['a', 'b'],
      prosemirror: {
        type: 'doc',
        content: [
          { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Title' }] },
          {
            type: 'paragraph',
            content: [
              { type: 'text', text: 'plain ' },
              { type: 'text', text: 'bold', marks: [{ type: 'strong' }] },
              { type: 'text', text: ' link', marks: [{ type: 'link', attrs: { href: 'https://example.org' } }] },
            ],
          },
        ],
      },
    })
  })

  it('the block layout reads as ProseMirror JSON, and so does a tree-layout room converted to it', async () => {
    const r = await relay()
    const doc = editorSchema.node('doc', null, [
      editorSchema.node('heading', { level: 2 }, [editorSchema.text('Plan')]),
      editorSchema.node('bullet_list', null, [
        editorSchema.node('list_item', null, [editorSchema.node('paragraph', null, [editorSchema.text('one '), editorSchema.text('bold', [editorSchema.marks['strong']!.create()])])]),
        editorSchema.node('list_item', null, [editorSchema.node('paragraph', null, [editorSchema.text('two')])]),
      ]),
    ])
    const posted = await fetch(`${r.httpUrl}/api/rooms/blocks-room/update`, { method: 'POST', body: Buffer.from(seedUpdate(doc, 77)) })
    expect(posted.status).toBe(200)
    const json = (await (await fetch(`${r.httpUrl}/api/rooms/blocks-room`)).json()) as Record<string, unknown>
    expect(json['blocks']).toEqual(doc.toJSON())

    // a tree-layout room, converted once: both roots read as the same document
    const tree = richDoc()
    Y.applyUpdate(tree, conversionUpdate(tree, editorSchema)!)
    await fetch(`${r.httpUrl}/api/rooms/converted/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(tree)) })
    const both = (await (await fetch(`${r.httpUrl}/api/rooms/converted`)).json()) as Record<string, unknown>
    // (the block layout is read through the schema: a link's default `title: null` is filled in)
    expect(both['blocks']).toEqual(editorSchema.nodeFromJSON(both['prosemirror']).toJSON())
  })

  it('a POSTed update reaches connected WebSocket clients', async () => {
    const r = await relay()
    const client = await connectProvider(r.url, 'live')
    cleanups.push(() => client.destroy())
    const source = new Y.Doc()
    source.getText('t').insert(0, 'from http')
    const res = await fetch(`${r.httpUrl}/api/rooms/live/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(source)) })
    expect(res.status).toBe(200)
    await waitFor(() => client.doc.getText('t').toString() === 'from http')
  })

  it('junk updates are refused with 400 and a reason, and nothing is stored', async () => {
    const r = await relay()
    const res = await fetch(`${r.httpUrl}/api/rooms/junk/update`, { method: 'POST', body: new Uint8Array([1, 2, 3, 255, 255, 255]) })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid-update' })
    const empty = await fetch(`${r.httpUrl}/api/rooms/junk/update`, { method: 'POST', body: new Uint8Array() })
    expect(empty.status).toBe(400)
    expect(await r.relay.storage.load('junk')).toEqual([])
    expect((await fetch(`${r.httpUrl}/api/rooms/junk`)).status).toBe(404)
  })

  it('bodies over the limit are refused with 413', async () => {
    const r = await relay({ maxHttpBodyBytes: 1024 })
    const res = await fetch(`${r.httpUrl}/api/rooms/big/update`, { method: 'POST', body: new Uint8Array(4096) })
    expect(res.status).toBe(413)
  })

  it('unknown rooms are 404; invalid room names are 400', async () => {
    const r = await relay()
    expect((await r.relay.app.request('/api/rooms/never-written')).status).toBe(404)
    expect((await r.relay.app.request('/api/rooms/never-written/update')).status).toBe(404)
    expect((await r.relay.app.request('/api/rooms/a%2F..%2Fb')).status).toBe(400)
    expect((await r.relay.app.request(`/api/rooms/${'x'.repeat(300)}`)).status).toBe(400)
    expect((await r.relay.app.request('/api/rooms/a%01b')).status).toBe(400)
  })

  it('metrics counters move', async () => {
    const r = await relay()
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${r.httpUrl}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
      return line ? Number(line.split(' ').pop()) : 0
    }
    expect(await metric('tandem_updates_in_total')).toBe(0)
    const a = await connectProvider(r.url, 'metrics')
    const b = await connectProvider(r.url, 'metrics')
    cleanups.push(() => a.destroy(), () => b.destroy())
    expect(await metric('tandem_connections')).toBe(2)
    expect(await metric('tandem_rooms_loaded')).toBe(1)
    a.doc.getText('t').insert(0, 'counted')
    await waitFor(() => b.doc.getText('t').toString() === 'counted')
    expect(await metric('tandem_updates_in_total')).toBeGreaterThan(0)
    expect(await metric('tandem_updates_out_total')).toBeGreaterThan(0)
    expect(await metric('tandem_bytes_in_total')).toBeGreaterThan(0)
    expect(await metric('tandem_bytes_out_total')).toBeGreaterThan(0)
    await waitFor(async () => (await metric('tandem_store_latency_seconds_count{op="append"}')) > 0, { message: 'a store' })
    await fetch(`${r.httpUrl}/api/rooms/x/update`, { method: 'POST', body: new Uint8Array([9, 9, 9]) })
    expect(await metric('tandem_errors_total{code="invalid-update"}')).toBe(1)
  })
})
