/**
 * kill -9 while the history writes checkpoints. A relay child process (`--history-quiet-ms 20
 * --history-max 3`) holds a ~100k-character document that a client edits in short bursts, so a
 * version is taken every few tens of milliseconds and each one pushes the oldest out: the next
 * version becomes the checkpoint, its whole state rebuilt and written (one atomic batch, fsynced)
 * — the history is writing checkpoints most of the time. Once a child has logged its first
 * retention pass, it is killed with SIGKILL at a seeded random moment within the next 1.5 s, and
 * restarted on the same data directory. Each time, every version it
 * lists must rebuild to exactly the state it names (its id is a hash of that state), the newest
 * must lie within the document, and a restore of the oldest must work.
 */
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { rm } from 'node:fs/promises'
import { spawnRelay, tempDataDir, waitFor, type SpawnedRelay } from '../../fixtures/index.ts'
import { blocks, connect, docOf, hashesTo, HistoryApi } from './helpers.ts'
import { mulberry32 } from '../../../scripts/chaos/rng.ts'


/**
 * The state of version `id`, or null when retention removed it since it was listed (the relay
 * keeps recording: with --history-max 3 each new version pushes the oldest out).
 */
async function stateOrGone(api: HistoryApi, id: string): Promise<Uint8Array | null> {
  const res = await api.request('GET', `/${id}?format=update`)
  if (res.status === 200) return new Uint8Array(await res.arrayBuffer())
  expect(res.status).toBe(404)
  expect((await api.list()).map((v) => v.id)).not.toContain(id)
  return null
}

describe('history and kill -9', () => {
  let data = ''
  let child: SpawnedRelay | null = null
  afterAll(async () => {
    child?.kill('SIGKILL')
    if (data) await rm(data, { recursive: true, force: true })
  })

  it('keeps every listed version exact when killed during checkpoints', async () => {
    data = await tempDataDir('tandem-history-crash-')
    const args = ['--history-quiet-ms', '20', '--history-max', '3', '--flush-ms', '10']
    const random = mulberry32(27)
    const seen = new Set<string>()
    let restores = 0
    let rewrites = 0
    for (let round = 0; round < 4; round++) {
      child = await spawnRelay({ dataDir: data, args, env: { LOG_LEVEL: 'debug' } })
      const api = new HistoryApi(child.httpUrl, 'crash')
      // what survived the previous kill
      const versions = await api.list().catch(async (error: unknown) => {
        if (round === 0) return []
        throw error
      })
      const client = await connect(child.url, 'crash')
      const text = blocks(client.doc)
      if (round === 0) text.insert(0, 'lorem ipsum dolor sit amet '.repeat(4000))
      const sv = Y.decodeStateVector(Y.encodeStateVector(client.doc))
      let checked = 0
      for (const v of versions) {
        seen.add(v.id)
        const update = await stateOrGone(api, v.id)
        if (!update) continue
        checked++
        expect(hashesTo(update, v.id)).toBe(true)
        // every version lies within the document the relay kept
        for (const [clientId, clock] of Y.decodeStateVector(Y.encodeStateVector(docOf(update)))) expect(clock).toBeLessThanOrEqual(sv.get(clientId) ?? 0)
      }
      if (round > 0) expect(checked).toBeGreaterThan(0)
      const oldest = (await api.list()).at(-1)
      if (oldest) {
        const status = (await api.request('POST', `/${oldest.id}/restore`)).status
        expect(status).toBeOneOf([200, 404]) // 404: pushed out by retention meanwhile
        if (status === 200) restores++
      }
      // bursts of edits with quiet gaps; the kill comes at a random moment once this process has
      // started rewriting checkpoints (its first retention pass is logged)
      const rewritesOf = (): number => (child!.output().match(/history: retention/g) ?? []).length
      const started = rewritesOf()
      let killAt = Infinity
      let bursts = 0
      const deadline = Date.now() + 60_000
      while (Date.now() < killAt) {
        for (let i = 0; i < 10; i++) {
          const at = Math.floor(random() * text.length)
          if (random() < 0.4 && text.length > 100) text.delete(at, Math.min(20, text.length - at))
          else text.insert(at, `r${round}b${bursts} `)
        }
        bursts++
        await new Promise((r) => setTimeout(r, 25 + random() * 40))
        if (killAt === Infinity && rewritesOf() > started) killAt = Date.now() + random() * 1500
        if (Date.now() > deadline) throw new Error(`no retention pass within 60 s:\n${child.output().slice(-2000)}`)
      }
      const before = rewrites
      rewrites += rewritesOf()
      child.kill('SIGKILL')
      await child.waitExit()
      client.destroy()
      expect(rewrites).toBeGreaterThan(before)
    }
    // the history was busy: versions came and went while the child was killed and restarted
    expect(seen.size).toBeGreaterThan(3)
    expect(restores).toBeGreaterThan(0)
    child = await spawnRelay({ dataDir: data, args })
    const api = new HistoryApi(child.httpUrl, 'crash')
    const final = await waitFor(async () => (await api.list()).length > 0 ? api.list() : null, { message: 'versions after the last restart' })
    for (const v of final) {
      const update = await stateOrGone(api, v.id)
      if (update) expect(hashesTo(update, v.id)).toBe(true)
    }
    child.kill('SIGTERM')
    await child.waitExit()
    child = null
  }, 180_000)
})
