import { afterEach, describe, expect, it } from 'vitest'
import {
  client, freePorts, keysOf, peersFor, relayDoc, spawnMember, synced, until, type Client, type Proc,
} from './cluster.ts'

const ROOM = 'crash'
let procs: Proc[] = []
let clients: Client[] = []

afterEach(async () => {
  for (const c of clients) c.destroy()
  for (const p of procs) {
    p.kill('SIGKILL')
    await p.exited
  }
  procs = []
  clients = []
})

describe('kill -9 in a mesh of 3', () => {
  it('a relay killed during writes restarts and catches up; nothing acknowledged is lost anywhere', async () => {
    const ports = await freePorts(3)
    procs = await Promise.all(ports.map((port, i) => spawnMember({ id: `k${i}`, port, peers: peersFor('mesh', ports, i), topology: 'mesh' })))
    clients = procs.map((p) => client(p.url, ROOM))
    await Promise.all(clients.map(synced))
    const written: string[][] = clients.map(() => [])
    const writeBurst = (who: number[], from: number, count: number): void => {
      for (let k = from; k < from + count; k++) {
        for (const i of who) {
          clients[i]!.doc.getMap('m').set(`c${i}-${k}`, k)
          written[i]!.push(`c${i}-${k}`)
        }
      }
    }
    writeBurst([0, 1, 2], 0, 30)
    // Acknowledged: the victim's own writes are on its disk before the kill.
    await until('k2 stored the first burst of every client', async () =>
      keysOf(await relayDoc(procs[2]!.httpUrl, ROOM)).length >= 90)
    const victim = procs[2]!
    writeBurst([0, 1, 2], 30, 10)
    victim.kill('SIGKILL')
    await victim.exited
    writeBurst([0, 1], 40, 30)
    await until('survivors converge while k2 is down', async () => {
      const docs = await Promise.all([procs[0]!, procs[1]!].map((p) => relayDoc(p.httpUrl, ROOM)))
      return docs.every((d) => keysOf(d).length >= written[0]!.length + written[1]!.length)
    })
    procs[2] = await spawnMember({ id: 'k2', port: ports[2]!, peers: peersFor('mesh', ports, 2), topology: 'mesh', dataDir: victim.dataDir })
    const all = written.flat().sort()
    await until('every relay holds every write', async () => {
      const docs = await Promise.all(procs.map((p) => relayDoc(p.httpUrl, ROOM)))
      return docs.every((d) => keysOf(d).length === all.length)
    }, 30_000)
    for (const p of procs) expect(keysOf(await relayDoc(p.httpUrl, ROOM))).toEqual(all)
    await until('clients converge', () => clients.every((c) => keysOf(c.doc).length === all.length))
  })
})
