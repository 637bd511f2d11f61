/**
 * Retention on a real relay: past `--history-max` the oldest versions go, past `--history-keep`
 * the old ones go, but never a named version and never the newest; every version left still
 * shows exactly its state (the text recorded when it was made, and a state that hashes to its
 * id). The history survives a restart (LevelDB under `<data>/history`).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startRelay, tempDataDir, waitFor, type StartedRelay } from '../../fixtures/index.ts'
import { blocks, connect, docOf, hashesTo, HistoryApi, type ApiVersion } from './helpers.ts'
import { rm } from 'node:fs/promises'

describe('history retention', () => {
  let relay: StartedRelay | null = null
  const clients: Array<{ destroy(): void }> = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy()
    await relay?.stop()
    relay = null
  })

  /** Types `word` and waits for the version it makes; returns it. */
  async function version(api: HistoryApi, text: ReturnType<typeof blocks>, word: string, texts: Map<string, string>): Promise<ApiVersion> {
    const newest = (await api.list())[0]?.id
    text.insert(text.length, word)
    const expected = text.toString()
    const [made] = await waitFor(async () => {
      const versions = await api.waitNewVersion(newest)
      return blocks(docOf(await api.update(versions[0]!.id))).toString() === expected ? versions : null
    }, { timeoutMs: 20_000, message: `version with ${word}` })
    texts.set(made!.id, expected)
    return made!
  }

  async function expectExact(api: HistoryApi, texts: Map<string, string>): Promise<void> {
    for (const v of await api.list()) {
      const update = await api.update(v.id)
      expect(hashesTo(update, v.id)).toBe(true)
      expect(blocks(docOf(update)).toString()).toBe(texts.get(v.id))
    }
  }

  it('keeps at most --history-max versions, named ones and the newest always', async () => {
    relay = await startRelay({ historyQuietMs: 80, historyMax: 4 })
    const api = new HistoryApi(relay.httpUrl, 'count')
    const client = await connect(relay.url, 'count')
    clients.push(client)
    const text = blocks(client.doc)
    const texts = new Map<string, string>()
    const made: ApiVersion[] = []
    for (let i = 0; i < 8; i++) {
      made.push(await version(api, text, `w${i} `, texts))
      if (i === 1) {
        const named = await api.name('keep me')
        expect(named.id).toBe(made[1]!.id)
      }
    }
    const left = await api.list()
    expect(left.length).toBe(4)
    expect(left[0]!.id).toBe(made[7]!.id)
    expect(left.map((v) => v.id)).toContain(made[1]!.id)
    expect(left.find((v) => v.id === made[1]!.id)!.name).toBe('keep me')
    // the unnamed oldest ones went first
    expect(left.map((v) => v.id)).toEqual([made[7]!.id, made[6]!.id, made[5]!.id, made[1]!.id])
    await expectExact(api, texts)
    // a diff across the removed versions still reads as both versions
    const diff = await api.diff(made[7]!.id, made[1]!.id)
    expect(JSON.stringify(diff.doc)).toContain('w2 ')
  })

  it('removes versions older than --history-keep, named ones and the newest excepted', async () => {
    relay = await startRelay({ historyQuietMs: 80, historyKeepMs: 1500, historyMax: 0 })
    const api = new HistoryApi(relay.httpUrl, 'age')
    const client = await connect(relay.url, 'age')
    clients.push(client)
    const text = blocks(client.doc)
    const texts = new Map<string, string>()
    await version(api, text, 'one ', texts)
    const v2 = await version(api, text, 'two ', texts)
    await api.name('named')
    const v3 = await version(api, text, 'three ', texts)
    await waitFor(() => Date.now() - Date.parse(v3.time) > 1700, { timeoutMs: 5000, message: 'v3 older than the retention' })
    // v3 is the newest: kept until a newer one exists
    expect((await api.list()).map((v) => v.id)).toContain(v3.id)
    const v4 = await version(api, text, 'four ', texts)
    expect((await api.list()).map((v) => v.id)).toEqual([v4.id, v2.id])
    await expectExact(api, texts)
  })

  it('survives a restart (LevelDB); works in memory too (--storage memory)', async () => {
    const data = await tempDataDir('tandem-history-')
    try {
      relay = await startRelay({ data, historyQuietMs: 80 })
      const api0 = new HistoryApi(relay.httpUrl, 'kept')
      const client = await connect(relay.url, 'kept')
      const texts = new Map<string, string>()
      await version(api0, blocks(client.doc), 'alpha ', texts)
      await version(api0, blocks(client.doc), 'beta ', texts)
      await api0.name('before restart')
      const before = await api0.list()
      client.destroy()
      await relay.stop()
      relay = await startRelay({ data, historyQuietMs: 80 })
      const api = new HistoryApi(relay.httpUrl, 'kept')
      expect(await api.list()).toEqual(before)
      await expectExact(api, texts)
      const back = await connect(relay.url, 'kept')
      clients.push(back)
      const after = await version(api, blocks(back.doc), 'gamma ', texts)
      expect((await api.list()).map((v) => v.id)).toEqual([after.id, ...before.map((v) => v.id)])
      await expectExact(api, texts)
    } finally {
      await relay?.stop()
      relay = null
      await rm(data, { recursive: true, force: true })
    }
    relay = await startRelay({ storage: 'memory', historyQuietMs: 80 })
    const api = new HistoryApi(relay.httpUrl, 'mem')
    const client = await connect(relay.url, 'mem')
    clients.push(client)
    await version(api, blocks(client.doc), 'x ', new Map())
    expect((await api.list()).length).toBe(1)
  })
})
