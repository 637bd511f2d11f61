/**
 * A relay restored from an old copy of its data directory gets every deletion made since the
 * copy at the heal, without anyone opening the room there: the catch-up digest carries each
 * room's delete-set fingerprint, and rooms whose fingerprints differ are exchanged with their
 * delete sets even though deletions never move a state vector. Real relays, real LevelDB.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePorts, startMember, until, wsUrl, writeLocal, type Member } from './cluster.ts'

let members: Member[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const m of members) await m.stop(true)
  members = []
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** The text of `room` as `m` has it stored (read from its LevelDB, without loading the room). */
async function storedText(m: Member, room: string): Promise<string> {
  const d = new Y.Doc()
  for (const u of await m.relay.storage.load(room)) Y.applyUpdate(d, u)
  return d.getText('t').toString()
}

describe('a relay restored from an old copy of its data', () => {
  for (const shutdown of ['clean', 'crash'] as const) {
    it(`gets the deletions made since the copy at the heal, unopened (a copy whose fingerprints are ${shutdown === 'clean' ? 'trusted' : 'not trusted: taken after a crash'})`, async () => {
      const [pa, pb] = await freePorts(2) as [number, number]
      const a = await startMember({ id: 'a', port: pa, peers: [], topology: 'mesh' })
      members.push(a)
      let b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh' })
      members.push(b)
      await until('linked', () => a.ext.node!.linkedPeers().includes('b') && b.ext.node!.linkedPeers().includes('a'))
      await writeLocal(a, 'doc', (d) => d.getText('t').insert(0, 'keep this, remove this'))
      await until('b stored the text', async () => (await storedText(b, 'doc')) === 'keep this, remove this')
      const bDir = b.dataDir
      // One restart, so b's catch-up digest fingerprints the room, and its clean stop keeps that.
      await b.stop()
      b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', dataDir: bDir })
      members[1] = b
      await until('relinked and caught up', async () => (await (await fetch(`${b.httpUrl}/health`)).json() as { ok: boolean }).ok)
      // The backup: b's data directory as it is now.
      const backup = mkdtempSync(join(tmpdir(), 'tandem-backup-'))
      dirs.push(backup)
      await b.stop()
      cpSync(bDir, backup, { recursive: true })
      // After a crash the fingerprint file still says what the start wrote: not clean, nothing trusted.
      if (shutdown === 'crash') writeFileSync(join(backup, 'tandem-deletes.json'), JSON.stringify({ version: 1, clean: false, rooms: {} }))
      b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', dataDir: bDir })
      members[1] = b
      await until('relinked', () => a.ext.node!.linkedPeers().includes('b'))
      // A deletion only: no state vector moves. b receives it live and stores it.
      await writeLocal(a, 'doc', (d) => d.getText('t').delete(9, 13))
      await until('b stored the deletion', async () => (await storedText(b, 'doc')) === 'keep this')
      // b is restored from the backup, which lacks the deletion, and started again.
      await b.stop()
      rmSync(bDir, { recursive: true, force: true })
      cpSync(backup, bDir, { recursive: true })
      b = await startMember({ id: 'b', port: pb, peers: [wsUrl(pa)], topology: 'mesh', dataDir: bDir })
      members[1] = b
      expect(await storedText(b, 'doc')).toBe('keep this, remove this')
      await until('b got the deletion back at the heal', async () => (await storedText(b, 'doc')) === 'keep this')
      expect(await storedText(a, 'doc')).toBe('keep this')
    })
  }
})
