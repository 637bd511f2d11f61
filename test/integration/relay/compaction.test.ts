/**
 * Compaction from the live room doc: once `compactBytes` were appended, the room replaces its
 * stored log by one snapshot of its doc (no replay of the log); nothing acknowledged is lost,
 * including across kill -9 at random moments while compactions run.
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import * as Y from 'yjs'
import { spawnRelay, startRelay, tempDataDir } from '../../fixtures/relay.ts'
import { connectProvider, RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../../relay/wire/protocol.ts'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import { mulberry32 } from '../../../scripts/chaos/rng.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const SEED = Number(process.env.COMPACTION_SEED ?? 7)
const cleanups = cleanupAfterEach()

/** A raw writer whose every local change is sent to the relay, subscribed to saved acknowledgements. */
async function writer(url: string, room: string): Promise<{ client: RawClient; doc: Y.Doc }> {
  const client = await RawClient.connect(url, room)
  client.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => client.send(encodeSyncUpdate(u)))
  return { client, doc }
}

describe('compaction from the live doc', () => {
  it('replaces the stored log by a snapshot once compact-bytes were appended; the doc reloads the same', async () => {
    const data = await tempDataDir()
    cleanups.push(() => rm(data, { recursive: true, force: true }))
    const relay = await startRelay({ data, compactBytes: 1024 })
    const { client, doc } = await writer(relay.url, 'log')
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 25; i++) doc.getText('t').insert(doc.getText('t').length, String((round + i) % 10))
      await client.waitSaved(doc)
    }
    client.close()
    await relay.relay.rooms.peek('log')!.settled()
    await relay.stop()
    const store = await LevelDbStorage.open(data)
    try {
      const log = await store.load('log')
      // 500 single-character updates were appended; compaction left a snapshot and the tail.
      expect(log.length).toBeLessThan(100)
      const back = new Y.Doc()
      for (const u of log) Y.applyUpdate(back, u)
      expect(back.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(back)).toEqual(Y.encodeStateVector(doc))
    } finally {
      await store.close()
    }
  })

  it(`keeps every acknowledged write across kill -9 while compactions run (seed ${SEED})`, async () => {
    const data = await tempDataDir()
    cleanups.push(() => rm(data, { recursive: true, force: true }))
    const random = mulberry32(SEED)
    const expected = new Y.Doc()
    for (let round = 0; round < 3; round++) {
      const relay = await spawnRelay({ dataDir: data, args: ['--compact-bytes', '64', '--flush-ms', '5'] })
      cleanups.push(() => relay.kill('SIGKILL'))
      const { client, doc } = await writer(relay.url, 'crash')
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(expected))
      const edits = 50 + Math.floor(random() * 150)
      for (let i = 0; i < edits; i++) {
        const text = doc.getText('t')
        text.insert(Math.floor(random() * (text.length + 1)), String.fromCharCode(97 + Math.floor(random() * 26)))
        if (random() < 0.1) await client.waitSaved(doc)
      }
      await client.waitSaved(doc)
      Y.applyUpdate(expected, Y.encodeStateAsUpdate(doc))
      // A few more edits that may or may not be saved when the process dies.
      for (let i = 0; i < 20; i++) doc.getText('t').insert(0, 'x')
      relay.kill('SIGKILL')
      await relay.waitExit()
      client.close()
    }
    const relay = await spawnRelay({ dataDir: data })
    cleanups.push(async () => {
      relay.kill('SIGTERM')
      await relay.waitExit()
    })
    const reader = await connectProvider(relay.url, 'crash')
    cleanups.push(() => reader.destroy())
    // Every acknowledged write is there (unacknowledged ones may be too).
    const stored = Y.decodeStateVector(Y.encodeStateVector(reader.doc))
    for (const [clientId, clock] of Y.decodeStateVector(Y.encodeStateVector(expected))) {
      expect(stored.get(clientId) ?? 0, `client ${clientId}`).toBeGreaterThanOrEqual(clock)
    }
    await waitFor(() => reader.doc.getText('t').length >= expected.getText('t').length, { message: 'reloaded text' })
  }, 60_000)
})
