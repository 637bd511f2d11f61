/**
 * Storage write failures, with real LevelDB under the failing wrapper: a failed append is
 * retried with backoff, no saved acknowledgement (type 100) covers what is not stored, the
 * relay reports it (log line, tandem_store_failing_rooms / tandem_errors_total, health
 * `storage` degraded) and recovers when the disk does — with nothing accepted dropped.
 */
import { describe, expect, it } from 'vitest'
import { rm, writeFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import * as Y from 'yjs'
import { spawnRelay, startRelay, tempDataDir } from '../fixtures/relay.ts'
import { RawClient } from '../fixtures/clients.ts'
import { waitFor } from '../fixtures/wait.ts'
import { encodeSyncUpdate } from '../../relay/wire/protocol.ts'
import { LevelDbStorage } from '../../relay/storage/leveldb.ts'
import { FailingStorage } from '../../relay/storage/failing.ts'
import { retryDelayMs } from '../../relay/room/storage-health.ts'
import { metric } from './topology/cluster.ts'
import { cleanupAfterEach } from '../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

async function dataDir(): Promise<string> {
  const dir = await tempDataDir('tandem-storage-failure-')
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A writer: a doc whose updates go to the relay over a raw socket subscribed to saved acks. */
async function writer(url: string, room: string): Promise<{ doc: Y.Doc; client: RawClient }> {
  const client = await RawClient.connect(url, room)
  cleanups.push(() => client.close())
  client.subscribeSaved()
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => client.send(encodeSyncUpdate(u)))
  return { doc, client }
}

const health = async (httpUrl: string): Promise<{ status: string; components: Record<string, { ok: boolean; detail?: string }> }> =>
  (await fetch(`${httpUrl}/health`)).json() as never

describe('storage write failures', () => {
  it('retries a failed append with backoff, acknowledges nothing unstored, degrades health and recovers', async () => {
    const data = await dataDir()
    const storage = new FailingStorage(await LevelDbStorage.open(data))
    const relay = await startRelay({ data, storageAdapter: storage, flushMs: 10 })
    let stopped = false
    cleanups.push(() => (stopped ? undefined : relay.stop()))
    const { doc, client } = await writer(relay.url, 'disk')
    doc.getText('t').insert(0, 'before ')
    await client.waitSaved(doc)
    expect((await health(relay.httpUrl)).status).toBe('ok')

    storage.failing = true
    doc.getText('t').insert(7, 'during')
    const own = Y.getState(doc.store, doc.clientID)
    await waitFor(() => storage.refused >= 4, { message: 'four refused appends' })
    // Backoff: the retries wait 10, 20, 40 ms (doubling), not one flush interval each.
    const gaps = storage.refusedAt.slice(1, 4).map((t, i) => t - storage.refusedAt[i]!)
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(retryDelayMs(i + 1, 10) - 2))
    expect(retryDelayMs(30, 10)).toBe(2000)
    const report = await health(relay.httpUrl)
    expect(report.status).toBe('degraded')
    expect(report.components.storage?.ok).toBe(false)
    expect(report.components.storage?.detail).toMatch(/appends failing for 1 room.*injected storage fault/)
    expect(await metric(relay.httpUrl, 'tandem_store_failing_rooms')).toBe(1)
    expect(await metric(relay.httpUrl, 'tandem_unsaved_updates')).toBeGreaterThanOrEqual(1)
    expect(await metric(relay.httpUrl, 'tandem_errors_total', { code: 'store-failed' })).toBeGreaterThanOrEqual(3)
    // No acknowledgement covers the unstored write, even after several retries.
    expect(client.saved?.get(doc.clientID) ?? 0).toBeLessThan(own)
    const room = relay.relay.rooms.peek('disk')
    expect(room?.unsaved).toBeGreaterThanOrEqual(1)
    // The room is not unloaded while its backlog is unstored.
    expect(await relay.relay.rooms.unload(room!)).toBe(false)

    const refusedBefore = storage.refused
    storage.failing = false
    await client.waitSaved(doc)
    expect(storage.refused).toBe(refusedBefore)
    await waitFor(async () => (await health(relay.httpUrl)).status === 'ok', { message: 'health ok again' })
    expect((await health(relay.httpUrl)).components.storage).toEqual({ ok: true })
    expect(await metric(relay.httpUrl, 'tandem_store_failing_rooms')).toBe(0)

    // Everything accepted is on disk: reopen the directory after a graceful stop.
    client.close()
    stopped = true
    await relay.stop()
    const reopened = await LevelDbStorage.open(data)
    const stored = new Y.Doc()
    for (const u of await reopened.load('disk')) Y.applyUpdate(stored, u)
    await reopened.close()
    expect(stored.getText('t').toString()).toBe('before during')
  })

  it('a relay process with --fault-storage FILE fails writes while FILE exists and loses nothing across kill -9 after recovery', async () => {
    const data = await dataDir()
    const fault = join(data, '..', `fault-${process.pid}-${Date.now()}`)
    cleanups.push(() => rm(fault, { force: true }))
    const proc = await spawnRelay({ dataDir: data, args: ['--fault-storage', fault, '--flush-ms', '10'], env: { LOG_LEVEL: 'warn' } })
    cleanups.push(() => proc.kill('SIGKILL'))
    const { doc, client } = await writer(proc.url, 'file-fault')
    doc.getMap('m').set('a', 1)
    await client.waitSaved(doc)
    await writeFile(fault, '')
    doc.getMap('m').set('b', 2)
    await waitFor(async () => (await health(proc.httpUrl)).status === 'degraded', { message: 'degraded health' })
    await waitFor(() => /storing updates failed; kept in memory, retrying/.test(proc.output()), { message: 'failure log line' })
    expect(client.saved?.get(doc.clientID) ?? 0).toBeLessThan(Y.getState(doc.store, doc.clientID))
    await unlink(fault)
    await client.waitSaved(doc)
    await waitFor(async () => (await health(proc.httpUrl)).status === 'ok', { message: 'health ok again' })
    expect(proc.output()).toMatch(/storing updates recovered/)
    client.close()
    proc.kill('SIGKILL')
    await proc.waitExit()
    const reopened = await LevelDbStorage.open(data)
    const stored = new Y.Doc()
    for (const u of await reopened.load('file-fault')) Y.applyUpdate(stored, u)
    await reopened.close()
    expect(stored.getMap('m').toJSON()).toEqual({ a: 1, b: 2 })
  }, 60_000)
})
