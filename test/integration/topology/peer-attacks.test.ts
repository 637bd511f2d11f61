/**
 * Attacks on the peer links by someone who can reach `/_peer` (or sits on the path between
 * two relays) but does not know the peer secret. Real relays, real sockets on loopback.
 * Each attack must be refused with its close code, and nothing it carried may be applied.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { WebSocket } from 'ws'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { PEER_CLOSE, decodeFrame, encodeFrame, topologyExtension, type PeerFrame } from '../../../relay/topology/index.ts'
import { PEER_PROTOCOL_VERSION } from '../../../relay/topology/peer-protocol.ts'
import { MAX_PENDING_HANDSHAKES } from '../../../relay/topology/topology-node.ts'
import { createNonce } from '../../../relay/topology/peer-auth.ts'
import { startTamperProxy, type TamperProxy } from '../../fixtures/tamper-proxy.ts'
import { mulberry32 } from '../../../scripts/chaos/rng.ts'
import {
  freePorts, keysOf, metric, relayDoc, spawnMember, startMember, until, wsUrl, writeLocal, type Member, type Proc,
} from './cluster.ts'

let members: Member[] = []
let procs: Proc[] = []
let proxies: TamperProxy[] = []
let sockets: WebSocket[] = []
let servers: Array<{ close(cb: () => void): void }> = []

afterEach(async () => {
  for (const s of sockets) s.terminate()
  for (const p of proxies) await p.close()
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()))
  for (const p of procs) {
    p.kill('SIGKILL')
    await p.exited
  }
  for (const m of members) await m.stop(true)
  members = []
  procs = []
  proxies = []
  sockets = []
  servers = []
})

/** A raw socket to a relay's `/_peer`: every message it receives, and how it closed. */
interface RawPeer {
  ws: WebSocket
  received: Buffer[]
  closed: Promise<{ code: number; reason: string }>
  /** Resolves with the `n`-th message received (0-based). */
  message(n: number): Promise<Buffer>
}

function rawPeer(url: string): Promise<RawPeer> {
  const ws = new WebSocket(`${url}/_peer`)
  sockets.push(ws)
  const received: Buffer[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('message', (d: Buffer) => received.push(d))
  ws.on('error', () => undefined)
  const peer: RawPeer = {
    ws, received, closed,
    async message(n) {
      await until(`message ${n} from the relay`, () => received.length > n || ws.readyState === WebSocket.CLOSED)
      if (received.length <= n) throw new Error(`socket closed before message ${n}`)
      return received[n] as Buffer
    },
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer))
    ws.once('error', reject)
  })
}

const hello = (b: Buffer): Extract<PeerFrame, { kind: 'hello' }> => decodeFrame(b) as Extract<PeerFrame, { kind: 'hello' }>

function forgedUpdate(key: string): Uint8Array {
  const d = new Y.Doc()
  d.getMap('m').set(key, 'written by the attacker')
  return Y.encodeStateAsUpdate(d)
}

async function refusals(m: Member | Proc, reason: string): Promise<number> {
  return (await metric(m.httpUrl, 'tandem_peer_refused_total', { reason })) ?? 0
}

/** Two relays, `a` dialling `b` through a tamper proxy; resolves once both sides linked and the digests passed. */
async function linkedThroughProxy(): Promise<{ a: Member; b: Member; proxy: TamperProxy }> {
  const [pa, pb] = await freePorts(2) as [number, number]
  const b = await startMember({ id: 'b', port: pb, peers: [], topology: 'mesh' })
  members.push(b)
  const proxy = await startTamperProxy(b.url)
  proxies.push(proxy)
  const a = await startMember({ id: 'a', port: pa, peers: [proxy.url], topology: 'mesh' })
  members.push(a)
  await until('a and b linked', () => a.ext.node!.linkedPeers().includes('b') && b.ext.node!.linkedPeers().includes('a'))
  // hello, auth, the complete digest: then the link is idle until the test writes.
  await until('digests exchanged', () => proxy.seen.up >= 3 && proxy.seen.down >= 3)
  return { a, b, proxy }
}

describe('the handshake cannot be relayed, reflected or replayed', () => {
  it('an attacker between two relays, passing each one the other\'s hello, links neither and applies nothing', async () => {
    const [p1, p2] = await freePorts(2) as [number, number]
    const r1 = await startMember({ id: 'r1', port: p1, peers: [], topology: 'mesh', handshakeTimeoutMs: 1500 })
    const r2 = await startMember({ id: 'r2', port: p2, peers: [], topology: 'mesh', handshakeTimeoutMs: 1500 })
    members.push(r1, r2)
    await writeLocal(r1, 'victim', (d) => d.getMap('m').set('private', 'r1 only'))
    const s1 = await rawPeer(r1.url)
    const s2 = await rawPeer(r2.url)
    const [h1, h2] = [await s1.message(0), await s2.message(0)]
    expect(hello(h1).id).toBe('r1')
    // The relaying attack: each relay gets the other's hello, and anything either sends is passed across.
    s1.ws.send(h2)
    s2.ws.send(h1)
    s1.ws.on('message', (d: Buffer) => { if (s2.ws.readyState === WebSocket.OPEN) s2.ws.send(d) })
    s2.ws.on('message', (d: Buffer) => { if (s1.ws.readyState === WebSocket.OPEN) s1.ws.send(d) })
    // Then it tries to write a room and to read one, in the clear.
    s1.ws.send(encodeFrame({ kind: 'update', room: 'victim', path: ['r2'], update: forgedUpdate('forged') }))
    s2.ws.send(encodeFrame({ kind: 'sync1', room: 'victim', stateVector: new Uint8Array([0]) }))
    const [c1, c2] = await Promise.all([s1.closed, s2.closed])
    expect([c1.code, c2.code]).toEqual([PEER_CLOSE.protocol, PEER_CLOSE.protocol])
    // Neither relay said anything but its hello: no proof, no room content.
    expect(s1.received).toHaveLength(1)
    expect(s2.received).toHaveLength(1)
    expect(r1.ext.node!.linkedPeers()).toEqual([])
    expect(r2.ext.node!.linkedPeers()).toEqual([])
    expect(keysOf(await relayDoc(r1.httpUrl, 'victim'))).toEqual(['private'])
    expect(await r2.relay.storage.listRooms()).toEqual([])
  })

  it('the same crossing without sending data: both sockets time out unlinked, having received only the hello', async () => {
    const [p1, p2] = await freePorts(2) as [number, number]
    const r1 = await startMember({ id: 'r1', port: p1, peers: [], topology: 'mesh', handshakeTimeoutMs: 800 })
    const r2 = await startMember({ id: 'r2', port: p2, peers: [], topology: 'mesh', handshakeTimeoutMs: 800 })
    members.push(r1, r2)
    const s1 = await rawPeer(r1.url)
    const s2 = await rawPeer(r2.url)
    s1.ws.send(await s2.message(0))
    s2.ws.send(await s1.message(0))
    s1.ws.on('message', (d: Buffer) => s2.ws.send(d))
    s2.ws.on('message', (d: Buffer) => s1.ws.send(d))
    const [c1, c2] = await Promise.all([s1.closed, s2.closed])
    expect([c1.code, c2.code]).toEqual([PEER_CLOSE.handshakeTimeout, PEER_CLOSE.handshakeTimeout])
    expect(s1.received).toHaveLength(1)
    expect(s2.received).toHaveLength(1)
    expect(await refusals(r1, 'handshake timeout')).toBe(1)
  })

  it('reflection: a relay\'s own nonce sent back is refused; its hello crossed between two of its own sockets gets no proof', async () => {
    const [port] = await freePorts(1) as [number]
    const r = await startMember({ id: 'r', port, peers: [], topology: 'mesh', handshakeTimeoutMs: 800 })
    members.push(r)
    const s = await rawPeer(r.url)
    const mine = hello(await s.message(0))
    s.ws.send(encodeFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: 'mallory', nonce: mine.nonce }))
    const c = await s.closed
    expect(c).toEqual({ code: PEER_CLOSE.unauthorized, reason: 'reflected nonce' })
    // Its own hello on another socket: the relay sees itself.
    const t = await rawPeer(r.url)
    const u = await rawPeer(r.url)
    t.ws.send(await u.message(0))
    expect((await t.closed).code).toBe(PEER_CLOSE.incompatible)
    // Under another id: the relay waits for a dialer's proof that nobody can make.
    const v = await rawPeer(r.url)
    const w = await rawPeer(r.url)
    const hv = hello(await v.message(0))
    const hw = hello(await w.message(0))
    v.ws.send(encodeFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: 'other', nonce: hw.nonce }))
    w.ws.send(encodeFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: 'other', nonce: hv.nonce }))
    expect((await v.closed).code).toBe(PEER_CLOSE.handshakeTimeout)
    expect((await w.closed).code).toBe(PEER_CLOSE.handshakeTimeout)
    expect(v.received).toHaveLength(1)
    expect(w.received).toHaveLength(1)
    expect(r.ext.node!.linkedPeers()).toEqual([])
  })

  it('replay: a recorded genuine handshake and its frames, replayed to the relay, are refused and nothing is applied', async () => {
    const { a, b, proxy } = await linkedThroughProxy()
    await writeLocal(a, 'recorded', (d) => d.getMap('m').set('k', 1))
    await until('b has the write', async () => (await b.relay.storage.listRooms()).includes('recorded'))
    const fromA = proxy.recorded.filter((r) => r.conn === 1 && r.dir === 'up').map((r) => r.data)
    expect(fromA.length).toBeGreaterThanOrEqual(4)
    await a.stop(true)
    await b.stop(true)
    members = []
    // A fresh relay with b's id and secret: the recording is all an attacker would have.
    const [pb] = await freePorts(1) as [number]
    const b2 = await startMember({ id: 'b', port: pb, peers: [], topology: 'mesh' })
    members.push(b2)
    const s = await rawPeer(b2.url)
    await s.message(0)
    for (const m of fromA) s.ws.send(m)
    const c = await s.closed
    expect(c.code).toBe(PEER_CLOSE.unauthorized)
    expect(await refusals(b2, 'wrong peer secret or forged handshake')).toBe(1)
    expect(await b2.relay.storage.listRooms()).toEqual([])
    expect(b2.ext.node!.linkedPeers()).toEqual([])
  })
})

describe('frames after the handshake are authenticated', () => {
  type Attack = 'flip' | 'drop' | 'reorder' | 'replay'
  const titles: Record<Attack, string> = {
    flip: 'flips one byte of a sealed frame', drop: 'drops a sealed frame', reorder: 'swaps two sealed frames', replay: 'replays a sealed frame',
  }
  /** What b may hold afterwards: only what arrived intact before the tampered frame. */
  const expected: Record<Attack, string[]> = { flip: [], drop: [], reorder: [], replay: ['one'] }
  /** The writes are large, so their update frames are told apart from the small control frames by size alone. */
  const BIG = 'x'.repeat(3000)
  const isBig = (msg: Buffer): boolean => msg.length > 2000

  async function keysOn(m: Member, room: string): Promise<string[]> {
    const res = await fetch(`${m.httpUrl}/api/rooms/${room}/update`)
    if (res.status === 404) return []
    const d = new Y.Doc()
    Y.applyUpdate(d, new Uint8Array(await res.arrayBuffer()))
    return keysOf(d)
  }

  for (const name of ['flip', 'drop', 'reorder', 'replay'] as Attack[]) {
    it(`an on-path proxy that ${titles[name]}: the link closes (4402), nothing of it is applied, nothing is lost after the heal`, async () => {
      const { a, b, proxy } = await linkedThroughProxy()
      const refusedBefore = await refusals(b, 'frame failed authentication')
      // From now on the dialer cannot come back through the proxy until the test heals it.
      proxy.refuse(true)
      let big = 0
      let held: Buffer | null = null
      proxy.setTamper((msg, _index, dir) => {
        if (dir !== 'up' || !isBig(msg)) return [msg]
        big++
        if (name === 'flip' && big === 1) {
          const x = Buffer.from(msg)
          x[x.length >> 1]! ^= 0x01
          return [x]
        }
        if (name === 'drop' && big === 1) return []
        if (name === 'replay' && big === 1) return [msg, msg]
        if (name === 'reorder' && big === 1) {
          held = msg
          return []
        }
        if (name === 'reorder' && big === 2) return [msg, held as Buffer]
        return [msg]
      })
      await writeLocal(a, 'target', (d) => d.getMap('m').set('one', BIG))
      await writeLocal(a, 'target', (d) => d.getMap('m').set('two', BIG))
      await until('b refused the link', async () => (await refusals(b, 'frame failed authentication')) > refusedBefore)
      await until('the link is down on both sides', () => !a.ext.node!.linkedPeers().includes('b') && !b.ext.node!.linkedPeers().includes('a'))
      expect(proxy.closes.some((c) => c.dir === 'down' && c.code === PEER_CLOSE.badFrame)).toBe(true)
      expect(await keysOn(b, 'target')).toEqual(expected[name])
      // Heal: a redials, and catch-up brings everything; nothing written was lost.
      proxy.setTamper(null)
      proxy.refuse(false)
      await until('relinked', () => a.ext.node!.linkedPeers().includes('b'))
      await until('b has both writes', async () => (await keysOn(b, 'target')).join() === 'one,two')
    })
  }

  it('a frame before the handshake finishes is refused and not applied', async () => {
    const [port] = await freePorts(1) as [number]
    const r = await startMember({ id: 'r', port, peers: [], topology: 'mesh' })
    members.push(r)
    const s = await rawPeer(r.url)
    await s.message(0)
    s.ws.send(encodeFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: 'x', nonce: createNonce() }))
    s.ws.send(encodeFrame({ kind: 'update', room: 'early', path: ['x'], update: forgedUpdate('early') }))
    expect(await s.closed).toEqual({ code: PEER_CLOSE.protocol, reason: 'update before authentication' })
    expect(await r.relay.storage.listRooms()).toEqual([])
  })
})

describe('bad input on the peer endpoint', () => {
  it('fuzz before authentication: every random frame closes its socket; the relay, its genuine link and its rooms are unharmed', async () => {
    const { a, b } = await linkedThroughProxy()
    const linkChanges = await metric(b.httpUrl, 'tandem_peer_link_changes_total', { peer: 'a', state: 'down' })
    // Seeded PRNG (mulberry32): the same 150 inputs every run.
    const rand = mulberry32(21)
    const codes = new Map<number, number>()
    for (let i = 0; i < 150; i++) {
      const s = await rawPeer(b.url)
      await s.message(0)
      // Half start with a valid hello, so the fuzz reaches the auth and later states too.
      if (i % 2 === 1) s.ws.send(encodeFrame({ kind: 'hello', version: PEER_PROTOCOL_VERSION, id: `f${i}`, nonce: createNonce() }))
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 120) }, () => Math.floor(rand() * 256)))
      // Bias some inputs towards valid frame kinds so the decoder's fields are reached.
      if (rand() < 0.5) bytes[0] = Math.floor(rand() * 9)
      s.ws.send(bytes)
      if (i % 10 === 0) s.ws.send('text')
      const { code } = await s.closed
      codes.set(code, (codes.get(code) ?? 0) + 1)
      expect([PEER_CLOSE.protocol, PEER_CLOSE.unauthorized, PEER_CLOSE.incompatible]).toContain(code)
    }
    expect(codes.get(PEER_CLOSE.protocol)).toBeGreaterThan(0)
    expect((await fetch(`${b.httpUrl}/health`)).ok).toBe(true)
    expect(await metric(b.httpUrl, 'tandem_peer_link_changes_total', { peer: 'a', state: 'down' })).toBe(linkChanges)
    expect(await b.relay.storage.listRooms()).toEqual([])
    await writeLocal(a, 'after-fuzz', (d) => d.getMap('m').set('ok', true))
    await until('the genuine link still carries writes', async () => (await b.relay.storage.listRooms()).includes('after-fuzz'))
  })

  it('a flood of silent sockets is capped: past 64 pending handshakes a stranger is closed at once (1013), and a real peer still links', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const b = await startMember({ id: 'b', port: pb, peers: [], topology: 'mesh' })
    members.push(b)
    const silent: RawPeer[] = []
    for (let i = 0; i < MAX_PENDING_HANDSHAKES; i++) silent.push(await rawPeer(b.url))
    await Promise.all(silent.map((p) => p.message(0)))
    const extra = await rawPeer(b.url)
    expect((await extra.closed).code).toBe(PEER_CLOSE.tryAgainLater)
    expect(await refusals(b, 'too many pending handshakes')).toBe(1)
    // The silent ones go; a genuine peer links.
    for (const p of silent) p.ws.terminate()
    const a = await startMember({ id: 'a', port: pa, peers: [b.url], topology: 'mesh' })
    members.push(a)
    await until('a real peer links', () => b.ext.node!.linkedPeers().includes('a'))
  })

  it('no secret, no link: a topology without a peer secret does not start', () => {
    expect(() => topologyExtension({ id: 'x', peers: [], topology: 'mesh', peerSecret: '' })).toThrow(/peer secret/)
    expect(() => topologyExtension({ id: 'x', peers: [], topology: 'mesh', peerSecret: undefined })).toThrow(/peer secret/)
  })
})

describe('protocol versions', () => {
  it('a relay of the old protocol is refused with a clear close code and log line, whichever side dials', async () => {
    const [port, fakePort] = await freePorts(2) as [number, number]
    // A version-1 listener: says hello with version 1, as the old relays do.
    const server = createServer()
    const wss = new WebSocketServer({ server })
    const fakeSaw: Array<{ code: number; reason: string }> = []
    wss.on('connection', (ws) => {
      ws.send(encodeFrame({ kind: 'hello', version: 1, id: 'old', nonce: createNonce() }))
      ws.on('close', (code, reason) => fakeSaw.push({ code, reason: reason.toString() }))
    })
    await new Promise<void>((r) => server.listen(fakePort, '127.0.0.1', r))
    servers.push(server)
    void (server.address() as AddressInfo)
    const proc = await spawnMember({ id: 'new', port, peers: [wsUrl(fakePort)], topology: 'mesh' })
    procs.push(proc)
    await until('the new relay refused the old one it dialled', () => fakeSaw.length > 0)
    expect(fakeSaw[0]).toEqual({ code: PEER_CLOSE.incompatible, reason: `peer protocol version 1, this relay speaks ${PEER_PROTOCOL_VERSION}` })
    // And an old relay dialling the new one.
    const s = await rawPeer(proc.url)
    await s.message(0)
    s.ws.send(encodeFrame({ kind: 'hello', version: 1, id: 'old', nonce: createNonce() }))
    expect((await s.closed).code).toBe(PEER_CLOSE.incompatible)
    await until('logged', () => (proc.output().match(new RegExp(`peer protocol version 1, this relay speaks ${PEER_PROTOCOL_VERSION}`, 'g')) ?? []).length >= 2)
    expect(await metric(proc.httpUrl, 'tandem_peer_link_up', { peer: 'old' })).toBeUndefined()
  })
})
