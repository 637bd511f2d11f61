/**
 * Helpers for topology tests: free loopback ports, relays wired as a cluster, stock
 * y-websocket clients, and reading a relay's copy of a room over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket as WebSocketPolyfill } from 'ws'
import { topologyExtension, type Topology, type TopologyExtension } from '../../../relay/topology/index.ts'
import { createRelay, type Relay } from '../../../relay/server/server.ts'

const RELAY_CLI = 'relay/cli.ts'

/** Reserves `n` distinct free loopback ports (listen on 0, close). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })))
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

export const wsUrl = (port: number): string => `ws://127.0.0.1:${port}`

/** Peer URLs relay `i` dials in a cluster of `ports`. Mesh: everyone; star: spokes → hub (0); ring: i → i+1. */
export function peersFor(topology: Topology, ports: number[], i: number): string[] {
  const n = ports.length
  if (topology === 'mesh') return ports.filter((_, j) => j !== i).map(wsUrl)
  if (topology === 'star') return i === 0 ? [] : [wsUrl(ports[0] as number)]
  return [wsUrl(ports[(i + 1) % n] as number)]
}

/** Polls `cond` every 25 ms until true or the deadline; throws with `what` on timeout. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A relay's stored copy of a room, through `GET /api/rooms/:room/update`. */
export async function relayDoc(httpUrl: string, room: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/update`)
  if (!res.ok) throw new Error(`GET ${room} on ${httpUrl}: ${res.status}`)
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))
  return doc
}

export interface Client {
  doc: Y.Doc
  provider: WebsocketProvider
  destroy(): void
}

/** A stock y-websocket client on `url` (ws://host:port), room `room`. */
export function client(url: string, room: string): Client {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocketPolyfill as never, disableBc: true })
  return { doc, provider, destroy: () => { provider.destroy(); doc.destroy() } }
}

export async function synced(c: Client): Promise<void> {
  await until('client synced', () => c.provider.synced)
}

/** The keys of map `m` in a doc, sorted. */
export const keysOf = (doc: Y.Doc): string[] => [...doc.getMap('m').keys()].sort()

/** Reads a metric's value from Prometheus text (first sample with all the given labels). */
export async function metric(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text()
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const l = m[2] ?? ''
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) return Number(m[3])
  }
  return undefined
}

// ---- relays -------------------------------------------------------------------------


export const SECRET = 'test-peer-secret'

export interface MemberOptions {
  id: string
  port: number
  peers: string[]
  topology: Topology
  hub?: string
  secret?: string
  dataDir?: string
  /** Re-check unacknowledged rooms after this long (default 1000 ms). */
  resyncAfterMs?: number
  /** Ask peers for missing dependencies (default true). */
  askMissing?: boolean
  /** Close a peer socket whose handshake has not finished after this long (default 10 s). */
  handshakeTimeoutMs?: number
  /** Token secret (`--auth-secret`): the relay checks tokens. */
  authSecret?: string
}

/** An in-process relay with the topology extension, real LevelDB in a temp dir. */
export interface Member {
  id: string
  port: number
  url: string
  httpUrl: string
  dataDir: string
  relay: Relay
  ext: TopologyExtension
  /** Graceful stop; keeps the data dir unless `wipe`. */
  stop(wipe?: boolean): Promise<void>
}

/** A relay-local write (what a client's update does): `fn`'s change to a copy of `room`, applied on `m`. */
export async function writeLocal(m: Member, room: string, fn: (d: Y.Doc) => void): Promise<void> {
  const r = await m.relay.rooms.get(room)
  const d = new Y.Doc()
  Y.applyUpdate(d, r.encodeStateAsUpdate())
  const before = Y.encodeStateVector(d)
  fn(d)
  r.applyUpdate(Y.encodeStateAsUpdate(d, before), 'test-client')
}

export async function startMember(o: MemberOptions): Promise<Member> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), `tandem-topo-${o.id}-`))
  const ext = topologyExtension({
    id: o.id, peers: o.peers, topology: o.topology, hub: o.hub, peerSecret: o.secret ?? SECRET,
    backoff: { initialMs: 50, maxMs: 400 }, resyncAfterMs: o.resyncAfterMs ?? 1000,
    ...(o.askMissing === false ? { askMissing: false } : {}),
    ...(o.handshakeTimeoutMs ? { handshakeTimeoutMs: o.handshakeTimeoutMs } : {}),
  })
  const relay = await createRelay(
    { host: '127.0.0.1', port: o.port, data: dataDir, logLevel: 'silent', ...(o.authSecret ? { authSecret: o.authSecret } : {}) },
    { extensions: [ext] },
  )
  return {
    id: o.id, port: o.port, url: wsUrl(o.port), httpUrl: `http://127.0.0.1:${o.port}`, dataDir, relay, ext,
    async stop(wipe = false) {
      await relay.close()
      if (wipe) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A relay as a child process (`relay/cli.ts`), for kill -9 and log assertions. */
export interface Proc {
  port: number
  url: string
  httpUrl: string
  dataDir: string
  output: () => string
  kill(signal: NodeJS.Signals): void
  exited: Promise<number | null>
}

export async function spawnMember(o: MemberOptions): Promise<Proc> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), `tandem-topo-${o.id}-`))
  const args = ['--import', 'tsx', RELAY_CLI, '--host', '127.0.0.1', '--port', String(o.port), '--id', o.id,
    '--topology', o.topology, '--data', dataDir, '--log-level', 'info']
  if (o.hub) args.push('--hub', o.hub)
  if (o.peers.length > 0) args.push('--peers', o.peers.join(','))
  if (o.authSecret) args.push('--auth-secret', o.authSecret)
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TANDEM_PEER_SECRET: o.secret ?? SECRET, LOG_LEVEL: 'info' },
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const httpUrl = `http://127.0.0.1:${o.port}`
  await until(`relay ${o.id} listening`, async () => {
    if (child.exitCode !== null) throw new Error(`relay ${o.id} exited: ${out}`)
    try {
      return (await fetch(`${httpUrl}/health`)).ok
    } catch {
      return false
    }
  }, 30_000)
  return {
    port: o.port, url: wsUrl(o.port), httpUrl, dataDir, output: () => out, exited,
    kill: (signal) => { child.kill(signal) },
  }
}
