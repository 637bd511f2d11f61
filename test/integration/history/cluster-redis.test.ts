/**
 * History through Redis (a real redis-server on a free port, two relays with real LevelDB in temp
 * dirs): a version named on one relay is listed and previewable on the other, a relay that was
 * stopped while a version was named lists it once it is back, and malformed version marks on the
 * Redis channel are logged and dropped.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import { appendTokens, type Token } from '../../../editor/blocks/layout.ts'
import { encodeMark, type VersionMark } from '../../../relay/history/version-marks.ts'
import { LogLines, redisUp, relayDoc, startRedis, startRedisMember, until, Scene, type RedisMember } from '../redis/redis-fixture.ts'
import { blocks, hashesTo, HistoryApi } from './helpers.ts'

const para = (text: string): Token[] => [
  { kind: 'block', block: { type: 'paragraph', attrs: {}, parents: [] } },
  { kind: 'text', text, marks: {} },
]

/** Appends a paragraph to `room` on `m` (as a client's update would). */
async function write(m: RedisMember, room: string, text: string): Promise<void> {
  const r = await m.relay.rooms.get(room)
  const d = new Y.Doc()
  Y.applyUpdate(d, r.encodeStateAsUpdate())
  const before = Y.encodeStateVector(d)
  appendTokens(blocks(d), para(text))
  r.applyUpdate(Y.encodeStateAsUpdate(d, before), 'test-client')
}

async function textOn(m: RedisMember, room: string): Promise<string> {
  const doc = await relayDoc(m.httpUrl, room)
  try {
    return blocks(doc).toString()
  } finally {
    doc.destroy()
  }
}

describe('history through Redis', () => {
  const scene = new Scene()
  afterEach(() => scene.teardown())

  async function pair(logs?: LogLines): Promise<[RedisMember, RedisMember]> {
    scene.redis = await startRedis()
    const a = await startRedisMember({ id: 'a', redisUrl: scene.redis.url })
    scene.members.push(a)
    const b = await startRedisMember({ id: 'b', redisUrl: scene.redis.url, ...(logs ? { logs } : {}) })
    scene.members.push(b)
    await Promise.all([redisUp(a.httpUrl), redisUp(b.httpUrl)])
    return [a, b]
  }

  it('a version named on A is listed on B and previews there exactly as on A', async () => {
    const [a, b] = await pair()
    const room = 'named'
    await write(a, room, 'The draft that went to legal.')
    await until('b holds the draft', async () => (await textOn(b, room).catch(() => '')).includes('legal'))
    const onA = new HistoryApi(a.httpUrl, room)
    const onB = new HistoryApi(b.httpUrl, room)
    const named = await onA.name('Draft sent to legal')
    await until('b lists the named version', async () => (await onB.list().catch(() => [])).some((v) => v.id === named.id && v.name === 'Draft sent to legal'))
    expect(await onB.json(named.id)).toEqual(await onA.json(named.id))
    expect(hashesTo(await onB.update(named.id), named.id)).toBe(true)
  })

  it('B stopped while A names a version: B lists it once it is back', async () => {
    const [a, b] = await pair()
    const room = 'away'
    await write(a, room, 'Before B went away.')
    await until('b holds it', async () => (await textOn(b, room).catch(() => '')).includes('went away'))
    await b.stop(false)
    scene.members.splice(scene.members.indexOf(b), 1)
    await write(a, room, 'Written while B was away.')
    const onA = new HistoryApi(a.httpUrl, room)
    const named = await onA.name('while B was away')
    const b2 = await startRedisMember({ id: 'b', redisUrl: scene.redis!.url, dataDir: b.dataDir })
    scene.members.push(b2)
    const onB = new HistoryApi(b2.httpUrl, room)
    await until('b lists the version named while it was away', async () => (await onB.list().catch(() => [])).some((v) => v.id === named.id && v.name === 'while B was away'), 30_000)
    expect(await onB.json(named.id)).toEqual(await onA.json(named.id))
  })

  it('a version named while Redis is away reaches the other relay once Redis is back (empty)', async () => {
    const [a, b] = await pair()
    const room = 'outage'
    await write(a, room, 'Before the outage.')
    await until('b holds it', async () => (await textOn(b, room).catch(() => '')).includes('outage'))
    await scene.redis!.stop()
    const named = await new HistoryApi(a.httpUrl, room).name('named during the outage')
    await scene.redis!.start()
    await Promise.all([redisUp(a.httpUrl, 30_000), redisUp(b.httpUrl, 30_000)])
    const onB = new HistoryApi(b.httpUrl, room)
    await until('b lists the version named during the outage', async () => (await onB.list().catch(() => [])).some((v) => v.id === named.id && v.name === 'named during the outage'), 30_000)
    expect(await onB.json(named.id)).toEqual(await new HistoryApi(a.httpUrl, room).json(named.id))
  })

  it('malformed version marks on the Redis channel are logged and dropped; later marks still apply', async () => {
    const logs = new LogLines()
    const [a, b] = await pair(logs)
    const room = 'malformed'
    await write(a, room, 'Some text.')
    await until('b holds it', async () => (await textOn(b, room).catch(() => '')).includes('Some text'))
    const state = Y.encodeStateAsUpdate(await relayDoc(a.httpUrl, room))
    const forged: VersionMark = { room, id: '0123456789abcdef', at: Date.now(), relay: 'mallory', removed: false, time: Date.now(), kind: 'edit', name: 'forged', authors: [], inserted: 1, deleted: 0, state }
    const good = encodeMark(forged)
    const raw = new Redis(scene.redis!.url, { protocol: 2 })
    try {
      for (const body of [Buffer.from('no separator'), Buffer.concat([Buffer.from('mallory#1\0'), Buffer.from([1, 2, 3])]), Buffer.concat([Buffer.from('mallory#1\0'), good])]) {
        await raw.publish('tandem:versions:changes', body)
      }
    } finally {
      raw.disconnect()
    }
    await until('b logged the dropped marks', () => logs.withMessage('version mark').length >= 2 && logs.withMessage('not <instance>').length >= 1)
    const named = await new HistoryApi(a.httpUrl, room).name('real')
    const onB = new HistoryApi(b.httpUrl, room)
    await until('b lists the real one', async () => (await onB.list()).some((v) => v.id === named.id))
    expect((await onB.list()).some((v) => v.name === 'forged' || v.id === forged.id)).toBe(false)
    expect(logs.withMessage('malformed version mark').length).toBeGreaterThanOrEqual(1)
    expect(logs.withMessage('version mark from the cluster dropped').length).toBeGreaterThanOrEqual(1)
  })
})
