import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  client, freePorts, keysOf, metric, peersFor, relayDoc, startMember, synced, until, type Client, type Member,
} from './cluster.ts'

const ROOM = 'mesh-doc'
let members: Member[] = []
let clients: Client[] = []

afterEach(async () => {
  for (const c of clients) c.destroy()
  for (const m of members) await m.stop(true)
  members = []
  clients = []
})

describe('mesh of 3', () => {
  it('clients on every relay write concurrently: every relay and client ends equal; one link per pair', async () => {
    const ports = await freePorts(3)
    // Everyone dials everyone: each pair dials twice and keeps exactly one link.
    members = await Promise.all(ports.map((port, i) => startMember({ id: `m${i}`, port, peers: peersFor('mesh', ports, i), topology: 'mesh' })))
    await until('all links up', () => members.every((m) => m.ext.node?.linkedPeers().length === 2))
    clients = members.flatMap((m) => [client(m.url, ROOM), client(m.url, ROOM)])
    await Promise.all(clients.map(synced))

    const perClient = 40
    for (let k = 0; k < perClient; k++) {
      clients.forEach((c, i) => {
        c.doc.getMap('m').set(`c${i}-${k}`, k)
        c.doc.getText('t').insert(0, String(i))
      })
      await new Promise((r) => setImmediate(r))
    }
    const expected = clients.flatMap((_, i) => Array.from({ length: perClient }, (_, k) => `c${i}-${k}`)).sort()
    await until('clients converged', () => clients.every((c) => keysOf(c.doc).length === expected.length
      && c.doc.getText('t').length === clients.length * perClient))
    const texts = new Set(clients.map((c) => c.doc.getText('t').toString()))
    expect(texts.size).toBe(1)
    for (const c of clients) expect(keysOf(c.doc)).toEqual(expected)
    await until('relays stored everything', async () => {
      const docs = await Promise.all(members.map((m) => relayDoc(m.httpUrl, ROOM)))
      return docs.every((d) => keysOf(d).length === expected.length)
    })
    const docs = await Promise.all(members.map((m) => relayDoc(m.httpUrl, ROOM)))
    for (const d of docs) {
      expect(keysOf(d)).toEqual(expected)
      expect(d.getText('t').toString()).toBe([...texts][0])
    }
    // Exactly one authenticated link per pair, and peer traffic is counted.
    for (const m of members) {
      const peers = members.filter((o) => o !== m).map((o) => o.id)
      expect(m.ext.node?.linkedPeers().sort()).toEqual(peers)
      for (const p of peers) {
        expect(await metric(m.httpUrl, 'tandem_peer_link_up', { peer: p })).toBe(1)
        expect(await metric(m.httpUrl, 'tandem_peer_updates_sent_total', { peer: p })).toBeGreaterThan(0)
        expect(await metric(m.httpUrl, 'tandem_peer_bytes_received_total', { peer: p })).toBeGreaterThan(0)
      }
    }
    // Acks drain the replication lag.
    await until('lag drained', () => members.every((m) => m.ext.node!.lagReport().every((l) => l.unacked === 0)))
    expect(await metric(members[0]!.httpUrl, 'tandem_peer_unacked_updates', { peer: 'm1' })).toBe(0)
    void Y
  })
})
