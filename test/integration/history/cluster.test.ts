/**
 * History in a mesh of two relays (real relays on loopback, real LevelDB in temp dirs, real peer
 * links): a version named, restored or deleted on one relay is listed and usable on the other,
 * a relay that was down catches up the versions named meanwhile, and a malformed version mark
 * from a peer is dropped without harming the link.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { appendTokens, type Token } from '../../../editor/blocks/layout.ts'
import { encodeMark, type VersionMark } from '../../../relay/history/version-marks.ts'
import { freePorts, peersFor, relayDoc, startMember, until, writeLocal, type Member } from '../topology/cluster.ts'
import { blocks, exactContent, hashesTo, HistoryApi, textNodes } from './helpers.ts'

const para = (text: string): Token[] => [
  { kind: 'block', block: { type: 'paragraph', attrs: {}, parents: [] } },
  { kind: 'text', text, marks: {} },
]

/** Appends a paragraph to `room` on relay `m` (as a client's update would). */
const write = (m: Member, room: string, text: string): Promise<void> => writeLocal(m, room, (d) => appendTokens(blocks(d), para(text)))

/** The block layout's text of `room` on `m` ('' while `m` does not hold the room yet). */
async function textOn(m: Member, room: string): Promise<string> {
  const doc = await relayDoc(m.httpUrl, room).catch(() => null)
  if (!doc) return ''
  try {
    return blocks(doc).toString()
  } finally {
    doc.destroy()
  }
}

describe('history in a mesh', () => {
  const members: Member[] = []
  let ports: number[] = []
  afterEach(async () => {
    for (const m of members.splice(0)) await m.stop(true)
  })

  async function mesh(): Promise<[Member, Member]> {
    ports = await freePorts(2)
    const [a, b] = await Promise.all(['a', 'b'].map((id, i) => startMember({ id, port: ports[i]!, peers: peersFor('mesh', ports, i), topology: 'mesh' })))
    members.push(a!, b!)
    await until('linked', () => a!.ext.node!.linkedPeers().includes('b') && b!.ext.node!.linkedPeers().includes('a'))
    return [a!, b!]
  }

  it('a version named on A is listed on B and previews there exactly as on A; restoring it on B and the version before the restore on A', async () => {
    const [a, b] = await mesh()
    const room = 'named'
    const onA = new HistoryApi(a.httpUrl, room)
    const onB = new HistoryApi(b.httpUrl, room)
    await write(a, room, 'The draft that went to legal.')
    await until('b holds the draft', async () => (await textOn(b, room)).includes('legal'))
    const named = await onA.name('Draft sent to legal')
    const previewA = await onA.json(named.id)

    await until('b lists the named version', async () => (await onB.list()).some((v) => v.id === named.id && v.name === 'Draft sent to legal'))
    const onBList = await onB.list()
    const seen = onBList.find((v) => v.id === named.id)!
    expect(seen.name).toBe('Draft sent to legal')
    expect(seen.time).toBe(named.time)
    expect(await onB.json(named.id)).toEqual(previewA)
    expect(hashesTo(await onB.update(named.id), named.id)).toBe(true)

    // Later work on A, then B restores the version A named.
    await write(a, room, 'Later work typed on A.')
    await until('b holds the later work', async () => (await textOn(b, room)).includes('Later work'))
    const withLater = exactContent(await relayDoc(a.httpUrl, room))
    const restored = await onB.restore(named.id)
    expect(restored.restored).toBe(true)
    expect(restored.version.kind).toBe('restore')
    expect(restored.version.restoredFrom).toBe(named.id)
    expect(restored.before).not.toBeNull()
    await until('a shows the restored draft', async () => !(await textOn(a, room)).includes('Later work'))
    const namedDoc = new Y.Doc()
    Y.applyUpdate(namedDoc, await onA.update(named.id))
    expect(exactContent(await relayDoc(a.httpUrl, room))).toBe(exactContent(namedDoc))

    // On B the named version is one only A recorded: a diff against B's own version before the restore shows the later work deleted.
    const diff = await onB.diff(named.id, restored.before!.id)
    const deleted = textNodes(diff.doc).filter((n) => n.marks?.some((m) => m.type === 'deletion')).map((n) => n.text).join('')
    const inserted = textNodes(diff.doc).filter((n) => n.marks?.some((m) => m.type === 'insertion')).map((n) => n.text).join('')
    expect(deleted).toContain('Later work typed on A.')
    expect(inserted).toBe('')
    expect(textNodes(diff.doc).map((n) => n.text).join('')).toContain('The draft that went to legal.')

    // A lists the restore and the version before it, and restoring that brings the later work back.
    await until('a lists the restore and its before', async () => {
      const list = await onA.list()
      return list.some((v) => v.id === restored.version.id && v.kind === 'restore' && v.restoredFrom === named.id) && list.some((v) => v.id === restored.before!.id)
    })
    const back = await onA.restore(restored.before!.id)
    expect(back.restored).toBe(true)
    await until('b has the later work back', async () => (await textOn(b, room)).includes('Later work'))
    expect(exactContent(await relayDoc(b.httpUrl, room))).toBe(withLater)
  })

  it('a version deleted on A is gone on B', async () => {
    const [a, b] = await mesh()
    const room = 'deleted'
    const onA = new HistoryApi(a.httpUrl, room)
    const onB = new HistoryApi(b.httpUrl, room)
    await write(a, room, 'First state.')
    const first = await onA.name('first')
    await write(a, room, 'Second state.')
    const second = await onA.name('second')
    await until('b lists both', async () => {
      const ids = (await onB.list()).map((v) => v.id)
      return ids.includes(first.id) && ids.includes(second.id)
    })
    const res = await onA.request('DELETE', `/${first.id}`)
    expect(res.status).toBe(200)
    await until('b no longer lists it', async () => !(await onB.list()).some((v) => v.id === first.id))
    expect((await onB.request('GET', `/${first.id}`)).status).toBe(404)
    expect((await onB.list()).find((v) => v.id === second.id)?.name).toBe('second')
  })

  it('B down while A names a version: B lists it after catch-up', async () => {
    let [a, b] = await mesh()
    const room = 'catch-up'
    await write(a, room, 'Before B went down.')
    await until('b holds it', async () => (await textOn(b, room)).includes('went down'))
    const bDir = b.dataDir
    await b.stop(false)
    members.splice(members.indexOf(b), 1)
    await write(a, room, 'Written while B was down.')
    const named = await new HistoryApi(a.httpUrl, room).name('while B was away')
    const previewA = await new HistoryApi(a.httpUrl, room).json(named.id)

    b = await startMember({ id: 'b', port: ports[1]!, peers: peersFor('mesh', ports, 1), topology: 'mesh', dataDir: bDir })
    members.push(b)
    const onB = new HistoryApi(b.httpUrl, room)
    await until('b lists the version named while it was down', async () => (await onB.list().catch(() => [])).some((v) => v.id === named.id && v.name === 'while B was away'), 30_000)
    expect(await onB.json(named.id)).toEqual(previewA)
  })

  it('in a star, a version named on one spoke reaches the other through the hub', async () => {
    ports = await freePorts(3)
    const [hub, b, c] = await Promise.all(['a', 'b', 'c'].map((id, i) => startMember({ id, port: ports[i]!, peers: peersFor('star', ports, i), topology: 'star', hub: 'a' })))
    members.push(hub!, b!, c!)
    await until('spokes linked', () => hub!.ext.node!.linkedPeers().length === 2)
    const room = 'star'
    await write(b!, room, 'Written on a spoke.')
    await until('c holds it', async () => (await textOn(c!, room)).includes('spoke'))
    const named = await new HistoryApi(b!.httpUrl, room).name('from b')
    const onC = new HistoryApi(c!.httpUrl, room)
    await until('c lists it', async () => (await onC.list()).some((v) => v.id === named.id && v.name === 'from b'))
    expect(await onC.json(named.id)).toEqual(await new HistoryApi(b!.httpUrl, room).json(named.id))
  })

  it('a malformed version mark from a peer is logged and dropped; the link stays and later marks still apply', async () => {
    const [a, b] = await mesh()
    const room = 'malformed'
    const onA = new HistoryApi(a.httpUrl, room)
    const onB = new HistoryApi(b.httpUrl, room)
    await write(a, room, 'Some text.')
    await until('b holds it', async () => (await textOn(b, room)).includes('Some text'))
    const doc = await relayDoc(a.httpUrl, room)
    const state = Y.encodeStateAsUpdate(doc)
    const forged: VersionMark = { room, id: '0123456789abcdef', at: Date.now(), relay: 'a', removed: false, time: Date.now(), kind: 'edit', name: 'forged', authors: [], inserted: 1, deleted: 0, state }
    const good = encodeMark(forged)
    // The link's own connection (a genuine, authenticated peer) sends: garbage, a truncated mark, a mark whose state does not hash to its id.
    const link = (a.ext.node as unknown as { links: Map<string, { sendFrame(f: unknown): number }> }).links.get('b')!
    expect(link.sendFrame({ kind: 'versions', marks: [new Uint8Array([1, 2, 3]), good.subarray(0, good.length - 5), good] })).toBeGreaterThan(0)

    const named = await onA.name('real')
    await until('b lists the real one', async () => (await onB.list()).some((v) => v.id === named.id))
    expect((await onB.list()).some((v) => v.name === 'forged' || v.id === forged.id)).toBe(false)
    expect(b.ext.node!.linkedPeers()).toContain('a')
    expect(a.ext.node!.linkedPeers()).toContain('b')
  })
})
