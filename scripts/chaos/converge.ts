/**
 * The campaign's end game: wait until every copy is equal and every write acknowledged,
 * wait until every relay reports that state saved, and read every data directory back.
 *
 * @module
 */
import * as Y from 'yjs'
import { relayDoc } from '../../test/integration/topology/cluster.ts'
import { RawClient } from '../../test/fixtures/clients.ts'
import { LevelDbStorage } from '../../relay/storage/leveldb.ts'
import { isSaved } from '../../relay/wire/protocol.ts'
import type { RelayProcess } from './relay-process.ts'
import { ROOM, type Writer } from './writer.ts'
import type { Copy } from './checker.ts'

const KINDS = ['text', 'crdt'] as const

/** Polls `cond` every 100 ms; rejects after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A comparable summary of a doc: state vector and content (text, maps; CRDT slices as hex). */
export function fingerprint(doc: Y.Doc): string {
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(([a], [b]) => a - b)
  const content: Record<string, unknown> = {}
  for (const name of [...doc.share.keys()].sort()) {
    if (name === 't') content[name] = doc.getText('t').toString()
    else content[name] = Object.entries(doc.getMap(name).toJSON()).sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v])
  }
  return JSON.stringify({ sv, content })
}

/** Resolves once every connected writer is acknowledged and every relay and client copy is equal. */
export async function waitConverged(relays: readonly RelayProcess[], alive: () => Writer[], timeoutMs: number): Promise<void> {
  let state = ''
  try {
    await until('convergence', async () => {
      const behind = alive().filter((w) => !w.allAcked || !w.synced)
      if (behind.length > 0) {
        state = `unacknowledged or unsynced: ${behind.map((w) => `${w.name} ${w.acked}/${w.clock}`).join(', ')}`
        return false
      }
      for (const kind of KINDS) {
        const prints = new Set<string>()
        for (const r of relays) prints.add(fingerprint(await relayDoc(r.httpUrl, ROOM[kind])))
        for (const w of alive()) if (w.kind === kind) prints.add(fingerprint(w.doc))
        if (prints.size > 1) {
          state = `${kind}: ${prints.size} different copies`
          return false
        }
      }
      return true
    }, timeoutMs)
  } catch (error) {
    throw new Error(`${(error as Error).message} (${state})`)
  }
}

/** Waits until every relay's saved acknowledgement covers `target` (deletions included) in both rooms; returns the failures. */
export async function waitSaved(relays: readonly RelayProcess[], target: Copy): Promise<string[]> {
  const problems: string[] = []
  for (const r of relays) {
    for (const kind of KINDS) {
      const raw = await RawClient.connect(r.url, ROOM[kind])
      raw.subscribeSaved()
      try {
        // Deletions included: the ack's stored delete set must cover the converged doc's.
        await until(`${r.spec.id} saved ${kind}`, () => raw.savedAck !== null && isSaved(target[kind], raw.savedAck), 30_000)
      } catch (error) {
        problems.push((error as Error).message)
      } finally {
        raw.close()
      }
    }
  }
  return problems
}

async function loadFromDisk(dataDir: string, room: string): Promise<Y.Doc> {
  const storage = await LevelDbStorage.open(dataDir)
  try {
    const updates = await storage.load(room)
    const doc = new Y.Doc()
    Y.transact(doc, () => { for (const u of updates) Y.applyUpdate(doc, u) })
    return doc
  } finally {
    await storage.close()
  }
}

/** Every (stopped) relay's data directory read back as a copy. */
export async function readDisks(relays: readonly RelayProcess[]): Promise<Copy[]> {
  const copies: Copy[] = []
  for (const r of relays) {
    copies.push({ where: `${r.spec.id} (disk after kill -9)`, text: await loadFromDisk(r.spec.dataDir, ROOM.text), crdt: await loadFromDisk(r.spec.dataDir, ROOM.crdt) })
  }
  return copies
}
