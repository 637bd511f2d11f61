import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { connectProvider, waitConverged } from '../../fixtures/clients.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function relay(): Promise<StartedRelay> {
  const r = await startRelay()
  cleanups.push(() => r.stop())
  return r
}

async function client(url: string, room: string) {
  const c = await connectProvider(url, room)
  cleanups.push(() => c.destroy())
  return c
}

describe('sync with stock y-websocket clients', () => {
  it('two clients converge on concurrent edits', async () => {
    const { url } = await relay()
    const a = await client(url, 'two')
    const b = await client(url, 'two')
    a.doc.getText('t').insert(0, 'hello ')
    b.doc.getText('t').insert(0, 'world ')
    a.doc.getMap('m').set('a', 1)
    b.doc.getMap('m').set('b', 2)
    await waitConverged([a.doc, b.doc])
    expect(a.doc.getText('t').toString()).toBe(b.doc.getText('t').toString())
    expect(a.doc.getText('t').length).toBe(12)
    expect(b.doc.getMap('m').toJSON()).toEqual({ a: 1, b: 2 })
  })

  it('ten clients converge on concurrent edits', async () => {
    const { url } = await relay()
    const clients = await Promise.all(Array.from({ length: 10 }, () => client(url, 'ten')))
    clients.forEach((c, i) => {
      for (let k = 0; k < 20; k++) c.doc.getText('t').insert(0, String.fromCharCode(97 + i))
      c.doc.getArray<number>('a').push([i])
    })
    await waitConverged(clients.map((c) => c.doc))
    const text = clients[0]!.doc.getText('t').toString()
    expect(text).toHaveLength(200)
    for (const c of clients) {
      expect(c.doc.getText('t').toString()).toBe(text)
      expect([...c.doc.getArray<number>('a').toArray()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
  })

  it('rooms are isolated', async () => {
    const { url } = await relay()
    const a1 = await client(url, 'room-a')
    const a2 = await client(url, 'room-a')
    const b1 = await client(url, 'room-b')
    a1.doc.getText('t').insert(0, 'only in a')
    b1.doc.getText('t').insert(0, 'only in b')
    await waitConverged([a1.doc, a2.doc])
    const late = await client(url, 'room-b')
    expect(a2.doc.getText('t').toString()).toBe('only in a')
    expect(late.doc.getText('t').toString()).toBe('only in b')
    expect(Y.encodeStateVector(b1.doc)).toEqual(Y.encodeStateVector(late.doc))
  })

  it('a late joiner receives the whole state', async () => {
    const { url } = await relay()
    const a = await client(url, 'late')
    a.doc.getXmlFragment('prosemirror').insert(0, [new Y.XmlElement('paragraph')])
    a.doc.getText('t').insert(0, 'abc')
    const b = await client(url, 'late')
    await waitConverged([a.doc, b.doc])
    expect(b.doc.getText('t').toString()).toBe('abc')
  })
})
