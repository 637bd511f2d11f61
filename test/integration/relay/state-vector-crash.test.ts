/**
 * LevelDB writes a room's state vector back lazily (see `relay/storage/leveldb.ts`): these
 * tests kill -9 a process that holds the store (`test/fixtures/storage-child.ts`) at the
 * points where the vector on disk lags the log, and check that the store opened again reports
 * every room with the vector of everything its log holds.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import * as Y from 'yjs'
import { LevelDbStorage } from '../../../relay/storage/leveldb.ts'
import type { StorageStep } from '../../fixtures/storage-child.ts'
import { tempDataDir } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A room's edits, one update per character, from its own client. */
function typing(text: string, clientID: number): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < text.length; i++) doc.getText('t').insert(i, text[i]!)
  return updates
}

function stateVectorOf(updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return Y.encodeStateVector(doc)
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64')

/** The appends of `updates` to `room`, `per` at a time, each with the vector of what it completes. */
function appends(room: string, updates: Uint8Array[], per: number): StorageStep[] {
  const steps: StorageStep[] = []
  for (let i = 0; i < updates.length; i += per) {
    steps.push({ append: room, updates: updates.slice(i, i + per).map(b64), sv: b64(stateVectorOf(updates.slice(0, i + per))) })
  }
  return steps
}

/** Runs `steps` against the store in `dir` in a child process, then kills it with SIGKILL. */
async function runAndKill(dir: string, steps: StorageStep[], writeBackMs?: number): Promise<void> {
  const plan = join(dir, '..', `${Date.now()}-${Math.random()}.plan.json`)
  await writeFile(plan, JSON.stringify(steps))
  cleanups.push(() => rm(plan, { force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/storage-child.ts'), dir, plan, ...(writeBackMs === undefined ? [] : [String(writeBackMs)])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
  let gone = false
  void exited.then(() => (gone = true))
  await waitFor(() => {
    if (gone) throw new Error(`storage child exited early:\n${output}`)
    return output.includes('done\n')
  }, { timeoutMs: 20_000, message: 'the storage child to carry out its plan' })
  child.kill('SIGKILL')
  expect(await exited).toBe('SIGKILL')
}

/** Runs `read` on the store's LevelDB directly, bypassing the storage (which must be closed). */
async function raw<T>(dir: string, read: (db: ClassicLevel<string, Uint8Array>) => Promise<T>): Promise<T> {
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try {
    return await read(db)
  } finally {
    await db.close()
  }
}

/** The raw keys of the store under `prefix`. */
function rawKeys(dir: string, prefix: string): Promise<string[]> {
  return raw(dir, async (db) => {
    const keys: string[] = []
    for await (const key of db.keys({ gte: prefix, lt: prefix + '\uffff' })) keys.push(key)
    return keys
  })
}

/** The raw persisted state vector of `room` (before any recovery an open would run). */
function rawStateVector(dir: string, room: string): Promise<Uint8Array | null> {
  return raw(dir, async (db) => {
    const sv = await db.get(`sv\u0000${room}`)
    return sv === undefined ? null : new Uint8Array(sv)
  })
}

describe('LevelDB state vector across kill -9', () => {
  async function storeDir(): Promise<string> {
    const dir = await tempDataDir('tandem-sv-crash-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    return dir
  }

  it('recomputes the vector of every room appended to since the last write-back', async () => {
    const dir = await storeDir()
    const busy = typing('many appends after the first', 7)
    const once = typing('one', 8)
    const both = [...typing('before', 9), ...typing('after a write-back', 10)]
    // A name starting above U+FFFF: its keys sort above '\uffff' as UTF-8.
    const astral = typing('emoji room', 15)
    await runAndKill(dir, [
      ...appends('busy', busy, 4),
      ...appends('once', once, 3),
      ...appends('both', both.slice(0, 6), 2),
      { writeBack: true },
      ...appends('both', both, 3).slice(2),
      ...appends('😀 astral', astral, 3),
    ])
    const storage = await LevelDbStorage.open(dir)
    cleanups.push(() => storage.close())
    expect((await storage.listRooms()).sort()).toEqual(['both', 'busy', 'once', '😀 astral'])
    expect(await storage.getStateVector('busy')).toEqual(stateVectorOf(busy))
    expect(await storage.getStateVector('once')).toEqual(stateVectorOf(once))
    expect(await storage.getStateVector('both')).toEqual(stateVectorOf(both))
    expect(await storage.getStateVector('😀 astral')).toEqual(stateVectorOf(astral))
  })

  it('a write-back stores the newest vector, and the next one clears the mark of a quiet room', async () => {
    const dir = await storeDir()
    const quiet = typing('quiet after this', 11)
    const busy = typing('still typing', 12)
    await runAndKill(dir, [
      ...appends('quiet', quiet, 5),
      ...appends('busy', busy.slice(0, 6), 3),
      { writeBack: true },
      ...appends('busy', busy, 3).slice(2),
      { writeBack: true },
    ])
    // Read raw, before any recovery: the quiet room is clean with its newest vector on disk; the
    // busy one, appended to since the first write-back, stays marked with its vector written.
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual(['dirty\u0000busy'])
    expect(await rawStateVector(dir, 'quiet')).toEqual(stateVectorOf(quiet))
    expect(await rawStateVector(dir, 'busy')).toEqual(stateVectorOf(busy))
    const storage = await LevelDbStorage.open(dir)
    expect(await storage.getStateVector('busy')).toEqual(stateVectorOf(busy))
    await storage.close()
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual([])
  })

  it('with stateVectorWriteBackMs 0 every append writes its vector: current on disk, nothing marked', async () => {
    const dir = await storeDir()
    const updates = typing('vector with every append', 14)
    await runAndKill(dir, appends('r', updates, 4), 0)
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual([])
    expect(await rawStateVector(dir, 'r')).toEqual(stateVectorOf(updates))
  })

  it('a snapshot compaction holding updates not appended yet keeps the room marked', async () => {
    const dir = await storeDir()
    const updates = typing('snapshot ahead of the log', 16)
    const doc = new Y.Doc()
    for (const u of updates) Y.applyUpdate(doc, u)
    await runAndKill(dir, [
      ...appends('r', updates.slice(0, 5), 5),
      { writeBack: true },
      { writeBack: true },
      // The live doc holds every update; only the first 5 were appended when it is compacted.
      { compact: 'r', snapshot: b64(Y.encodeStateAsUpdate(doc)) },
      { writeBack: true },
    ])
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual(['dirty\u0000r'])
    const storage = await LevelDbStorage.open(dir)
    cleanups.push(() => storage.close())
    expect(await storage.getStateVector('r')).toEqual(stateVectorOf(updates))
  })

  it('refuses a write-back period that is negative or not a number, before opening anything', async () => {
    const dir = await storeDir()
    for (const bad of [-1, Number.NaN, Infinity]) {
      await expect(LevelDbStorage.open(dir, { stateVectorWriteBackMs: bad })).rejects.toThrow(RangeError)
    }
    // Nothing was left open: the store opens.
    const storage = await LevelDbStorage.open(dir, { stateVectorWriteBackMs: 0 })
    await storage.close()
  })

  it('a clean close leaves every vector current and no room marked', async () => {
    const dir = await storeDir()
    const updates = typing('closed cleanly', 13)
    const storage = await LevelDbStorage.open(dir)
    for (const step of appends('r', updates, 2)) {
      if ('append' in step) await storage.append(step.append, step.updates.map((u) => new Uint8Array(Buffer.from(u, 'base64'))), new Uint8Array(Buffer.from(step.sv, 'base64')))
    }
    await storage.close()
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual([])
    expect(await rawStateVector(dir, 'r')).toEqual(stateVectorOf(updates))
  })
})

/**
 * In-process, with LevelDB's batch writes intercepted: what a failed group, or an append still
 * being written, leaves on disk. A "crash" closes the LevelDB handle under the store, so nothing
 * a clean close would write is written.
 */
describe('LevelDB state vector with writes failing or in flight', () => {
  type Write = (options?: unknown) => Promise<void>
  type Hook = (db: ClassicLevel<string, Uint8Array>, write: () => Promise<void>, close: () => Promise<void>) => Promise<void>
  const proto = ClassicLevel.prototype as unknown as { batch: (...args: unknown[]) => unknown }
  const originalBatch = proto.batch
  let hook: Hook = (_db, write) => write()
  let lastDb: ClassicLevel<string, Uint8Array> | null = null
  afterEach(() => {
    proto.batch = originalBatch
    hook = (_db, write) => write()
  })
  function intercept(): void {
    proto.batch = function (this: ClassicLevel<string, Uint8Array>, ...args: unknown[]) {
      const batch = originalBatch.apply(this, args) as { write: Write; close: () => Promise<void> }
      if (args.length > 0) return batch
      lastDb = this
      const write = batch.write.bind(batch)
      batch.write = (options) => hook(this, () => write(options), () => batch.close())
      return batch
    }
  }
  const bytes = (step: StorageStep): [Uint8Array[], Uint8Array] => {
    if (!('append' in step)) throw new Error('not an append')
    return [step.updates.map((u) => new Uint8Array(Buffer.from(u, 'base64'))), new Uint8Array(Buffer.from(step.sv, 'base64'))]
  }

  it('a new room whose first group fails is listed, with its vector, once its next append is written', async () => {
    const dir = await tempDataDir('tandem-sv-fail-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    intercept()
    const storage = await LevelDbStorage.open(dir)
    cleanups.push(() => storage.close())
    const updates = typing('fails first', 17)
    const [first, second] = appends('r', updates, 6).map(bytes)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let entered!: () => void
    const writing = new Promise<void>((resolve) => (entered = resolve))
    let writes = 0
    hook = async (_db, write, close) => {
      if (++writes > 1) return write()
      entered()
      await held
      await close()
      throw new Error('disk full')
    }
    const failed = expect(storage.append('r', ...first!)).rejects.toThrow('disk full')
    await writing // the first group is being written (held)
    const next = storage.append('r', ...second!)
    release()
    await failed
    await next
    expect(await storage.listRooms()).toEqual(['r'])
    expect(await storage.getStateVector('r')).toEqual(second![1])
  })

  it('a write-back while an append is in flight keeps the mark until the append is written', async () => {
    const dir = await tempDataDir('tandem-sv-inflight-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    intercept()
    const storage = await LevelDbStorage.open(dir, { stateVectorWriteBackMs: 3_600_000 })
    const updates = typing('in flight', 18)
    const [first, second] = appends('r', updates, 5).map(bytes)
    await storage.append('r', ...first!)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let entered!: () => void
    const writing = new Promise<void>((resolve) => (entered = resolve))
    let writes = 0
    hook = async (_db, write) => {
      if (++writes === 1) {
        entered()
        await held
      }
      return write()
    }
    const inFlight = storage.append('r', ...second!)
    await writing // its group is being written (held)
    const backed = storage.writeBack()
    release()
    await inFlight
    await backed
    // Crash: the handle closes under the store, with the second append's vector only in memory.
    await lastDb!.close()
    expect(await rawKeys(dir, 'dirty\u0000')).toEqual(['dirty\u0000r'])
    const again = await LevelDbStorage.open(dir)
    cleanups.push(() => again.close())
    expect(await again.getStateVector('r')).toEqual(stateVectorOf(updates))
  })

  it('a write-back with nothing to write writes no batch (no fsync for an idle, snapshot-marked room)', async () => {
    const dir = await tempDataDir('tandem-sv-idle-')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    intercept()
    const storage = await LevelDbStorage.open(dir, { stateVectorWriteBackMs: 3_600_000 })
    cleanups.push(() => storage.close())
    const updates = typing('compacted', 19)
    const [first] = appends('r', updates, updates.length).map(bytes)
    await storage.append('r', ...first!)
    const doc = new Y.Doc()
    for (const u of updates) Y.applyUpdate(doc, u)
    await storage.compact('r', Y.encodeStateAsUpdate(doc))
    let writes = 0
    hook = (_db, write) => {
      writes++
      return write()
    }
    // The room stays marked (a snapshot), with nothing in memory to write: nothing is written.
    await storage.writeBack()
    await storage.writeBack()
    expect(writes).toBe(0)
    expect(await storage.getStateVector('r')).toEqual(stateVectorOf(updates))
  })
})
