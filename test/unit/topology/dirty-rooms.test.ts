import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { DirtyRooms } from '../../../relay/topology/dirty-rooms.ts'

const logger = pino({ level: 'silent' })
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-dirty-'))
  dirs.push(dir)
  return join(dir, 'tandem-topology.json')
}

describe('DirtyRooms', () => {
  it('writes a newly marked room before returning, and a new instance (a restart) restores it', () => {
    const f = file()
    const a = new DirtyRooms(f, logger)
    a.know('peer-1', [])
    a.mark('peer-1', 'room-a')
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ version: 1, dirty: { 'peer-1': ['room-a'] } })
    const b = new DirtyRooms(f, logger)
    expect(b.has('peer-1', 'room-a')).toBe(true)
    expect(b.peers()).toEqual(['peer-1'])
    b.know('peer-1', ['ignored: already known'])
    expect(b.has('peer-1', 'ignored: already known')).toBe(false)
  })

  it('clears lazily (save() flushes), and an unreadable file starts empty', () => {
    const f = file()
    const a = new DirtyRooms(f, logger)
    a.mark('p', 'r')
    a.clear('p', 'r')
    expect(a.has('p', 'r')).toBe(false)
    a.save()
    expect(new DirtyRooms(f, logger).has('p', 'r')).toBe(false)
    writeFileSync(f, '{not json')
    expect(new DirtyRooms(f, logger).peers()).toEqual([])
  })

  it('keeps everything in memory without a file', () => {
    const a = new DirtyRooms(undefined, logger)
    a.mark('p', 'r')
    expect(a.has('p', 'r')).toBe(true)
  })
})
