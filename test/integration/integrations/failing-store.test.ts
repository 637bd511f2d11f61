/**
 * The integrations store failing (a full or broken disk under `<data>/integrations`), on a real
 * LevelDB: the journal keeps every event it was given, in order, retries until the store takes
 * them, reports the failure and the recovery, and publishes an event only once it is durable —
 * so a consumer never sees an event a crash can take back, and no sequence number is sent twice.
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import pino from 'pino'
import { Journal } from '../../../relay/integrations/journal.ts'
import { FeedLog, type FeedEvent } from '../../../relay/integrations/feed-log.ts'
import { openLevelStore, type KvOp, type KvRange, type KvStore } from '../../../relay/integrations/store.ts'
import { tempDataDir } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

/** A real store whose batches fail while `failing` is set (reads pass through). */
class FailingKvStore implements KvStore {
  failing = false
  refused = 0
  constructor(private readonly inner: KvStore) {}
  batch(ops: KvOp[]): Promise<void> {
    if (this.failing) {
      this.refused++
      return Promise.reject(Object.assign(new Error('injected: no space left on device'), { code: 'ENOSPC' }))
    }
    return this.inner.batch(ops)
  }
  get(key: string): Promise<string | undefined> {
    return this.inner.get(key)
  }
  range(range: KvRange): Promise<Array<[string, string]>> {
    return this.inner.range(range)
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

const RETENTION = { retentionMs: 24 * 3600_000, maxEvents: 10_000 }

async function open(dir: string): Promise<{ store: FailingKvStore; journal: Journal; log: FeedLog; health: unknown[] }> {
  const store = new FailingKvStore(await openLevelStore(dir, true))
  const journal = await Journal.open(store, pino({ level: 'silent' }))
  const health: unknown[] = []
  journal.onHealth = (error) => health.push(error)
  const log = await FeedLog.open(store, journal, RETENTION)
  return { store, journal, log, health }
}

/** Adds one event of `room` the way the relay does: its writes in the next batch, published once durable. */
function announce(journal: Journal, log: FeedLog, room: string): FeedEvent {
  const event: FeedEvent = { seq: journal.next(), room, stateVector: 'AA==', authors: [], time: new Date().toISOString() }
  journal.add(log.appendOps(event), () => log.publish(event))
  return event
}

describe('integrations store failures', () => {
  it('keeps every event while the store fails, publishes none of them before it is durable, and all of them in order after', async () => {
    const dir = await tempDataDir('tandem-integrations-fail-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const { store, journal, log, health } = await open(dir)
    cleanups.push(() => store.close())
    const first = announce(journal, log, 'a')
    await journal.flush()
    expect(log.published).toBe(first.seq)

    store.failing = true
    const during = [announce(journal, log, 'a'), announce(journal, log, 'b'), announce(journal, log, 'a')]
    await waitFor(() => store.refused >= 2, { message: 'the journal retried the failing store', timeoutMs: 20_000 })
    // nothing written while failing is visible: not published, not readable
    expect(log.published).toBe(first.seq)
    expect((await log.read(first.seq, undefined, 100)).events).toEqual([])
    expect(health.length).toBeGreaterThan(0)
    expect((health[0] as Error).message).toMatch(/no space left/)
    // more events while failing go after the ones already waiting
    during.push(announce(journal, log, 'b'))

    store.failing = false
    await waitFor(() => log.published === during[during.length - 1]!.seq, { message: 'published after recovery', timeoutMs: 20_000 })
    expect(health[health.length - 1]).toBeNull()
    const all = await log.read(0, undefined, 100)
    expect(all.events.map((e) => e.seq)).toEqual([first, ...during].map((e) => e.seq))
    expect(new Set(all.events.map((e) => e.seq)).size).toBe(all.events.length)
    expect((await log.read(0, 'b', 100)).events.map((e) => e.seq)).toEqual(during.filter((e) => e.room === 'b').map((e) => e.seq))
  })

  it('a stop while the store fails loses only unpublished events; after a restart the feed holds exactly what was published and numbers go on', async () => {
    const dir = await tempDataDir('tandem-integrations-fail-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const before = await open(dir)
    const kept = [announce(before.journal, before.log, 'a'), announce(before.journal, before.log, 'b')]
    await before.journal.flush()
    before.store.failing = true
    const lost = announce(before.journal, before.log, 'a')
    await waitFor(() => before.store.refused >= 1, { message: 'a write refused', timeoutMs: 20_000 })
    await before.journal.close(200)
    expect(before.log.published).toBe(kept[1]!.seq)
    await before.store.close()

    const after = await open(dir)
    cleanups.push(() => after.store.close())
    expect(after.log.published).toBe(kept[1]!.seq)
    expect((await after.log.read(0, undefined, 100)).events.map((e) => e.seq)).toEqual(kept.map((e) => e.seq))
    // the lost event was never published, so its number may be reused; a published one never is
    const next = announce(after.journal, after.log, 'a')
    await after.journal.flush()
    expect(next.seq).toBeGreaterThan(kept[1]!.seq)
    expect(next.seq).toBeLessThanOrEqual(lost.seq)
    expect((await after.log.read(kept[1]!.seq, undefined, 100)).events.map((e) => e.seq)).toEqual([next.seq])
  })
})
