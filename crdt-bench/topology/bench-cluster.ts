/**
 * In-process relays wired as a topology (or sharing rooms through one Redis) for the
 * benchmark, one stock y-websocket client per relay, with access to each relay's copy of the
 * room and its peer (or Redis) metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket as WebSocketPolyfill } from 'ws'
import { createRelay, type Relay } from '../../relay/server/server.ts'
import { topologyExtension, type Topology, type TopologyExtension } from '../../relay/topology/index.ts'
import { redisExtension, type RedisExtension } from '../../relay/redis/index.ts'
import { startBenchRedis, type BenchRedis } from './redis-server.ts'

/** A relay topology, or `redis`: every relay on one Redis, no peer links. */
export type BenchMode = Topology | 'redis'

const SECRET = 'bench-secret'

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })))
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

interface Member {
  relay: Relay | null
  ext: TopologyExtension | null
  redisExt: RedisExtension | null
  doc: Y.Doc | null
  dataDir: string
  client: { doc: Y.Doc; provider: WebsocketProvider } | null
}

export class BenchCluster {
  private constructor(
    private readonly topology: BenchMode,
    private readonly ports: number[],
    private readonly room: string,
    private readonly members: Member[],
    /** The Redis of a `redis` cluster. */
    readonly redis: BenchRedis | null,
  ) {}

  static async start(topology: BenchMode, n: number, room: string): Promise<BenchCluster> {
    const ports = await freePorts(n)
    const members = ports.map((): Member => ({
      relay: null, ext: null, redisExt: null, doc: null, client: null, dataDir: mkdtempSync(join(tmpdir(), 'tandem-topo-bench-')),
    }))
    const redis = topology === 'redis' ? await startBenchRedis() : null
    const cluster = new BenchCluster(topology, ports, room, members, redis)
    for (let i = 0; i < n; i++) await cluster.startRelay(i)
    await cluster.waitLinks()
    for (let i = 0; i < n; i++) {
      const doc = new Y.Doc()
      const provider = new WebsocketProvider(`ws://127.0.0.1:${ports[i]}`, room, doc, {
        WebSocketPolyfill: WebSocketPolyfill as never, disableBc: true,
      })
      members[i]!.client = { doc, provider }
    }
    const end = Date.now() + 20_000
    while (!members.every((m) => m.client?.provider.synced)) {
      if (Date.now() > end) throw new Error('bench clients did not sync')
      await new Promise((r) => setTimeout(r, 10))
    }
    return cluster
  }

  private peers(i: number): string[] {
    if (this.topology === 'redis') return []
    const url = (j: number): string => `ws://127.0.0.1:${this.ports[j]}`
    const n = this.ports.length
    if (this.topology === 'mesh') return this.ports.map((_, j) => j).filter((j) => j !== i).map(url)
    if (this.topology === 'star') return i === 0 ? [] : [url(0)]
    return [url((i + 1) % n)]
  }

  private async startRelay(i: number): Promise<void> {
    const m = this.members[i]!
    const ext = this.topology === 'redis' ? null : topologyExtension({
      id: `r${i}`, peers: this.peers(i), topology: this.topology, hub: 'r0', peerSecret: SECRET,
      backoff: { initialMs: 50, maxMs: 500 }, resyncAfterMs: 3000,
    })
    const redisExt = this.redis ? redisExtension({ url: this.redis.url, id: `r${i}`, backoff: { initialMs: 50, maxMs: 500 } }) : null
    const relay = await createRelay(
      { host: '127.0.0.1', port: this.ports[i], data: m.dataDir, logLevel: 'silent', idleMs: 3_600_000, id: `r${i}` },
      { extensions: ext ? [ext] : redisExt ? [redisExt] : [] },
    )
    m.relay = relay
    m.ext = ext
    m.redisExt = redisExt
    m.doc = (await relay.rooms.get(this.room)).doc
  }

  private expectedLinks(i: number): number {
    const n = this.ports.length
    if (this.topology === 'redis') return 0
    if (this.topology === 'mesh') return n - 1
    if (this.topology === 'star') return i === 0 ? n - 1 : 1
    return n === 2 ? 1 : 2
  }

  async waitLinks(): Promise<void> {
    const end = Date.now() + 20_000
    const linked = (m: Member, i: number): boolean => this.topology === 'redis'
      ? m.redisExt?.node?.isLive() === true
      : m.ext?.node?.linkedPeers().length === this.expectedLinks(i)
    while (!this.members.every(linked)) {
      if (Date.now() > end) throw new Error('bench relays did not link')
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  clientDoc(i: number): Y.Doc {
    return this.members[i]!.client!.doc
  }

  /** Each running relay's copy of the room. */
  relayDocs(): Y.Doc[] {
    return this.members.map((m) => m.doc).filter((d): d is Y.Doc => d !== null)
  }

  /** Sum of peer bytes sent and update messages sent over all running relays (Redis: bytes written and read, entries written). */
  async peerTotals(): Promise<{ bytes: number; updates: number }> {
    // Redis: bytes written to it plus bytes read from it (each entry is read by n−1 relays).
    const bytesMetrics = this.topology === 'redis'
      ? ['tandem_redis_bytes_sent_total', 'tandem_redis_bytes_received_total']
      : ['tandem_peer_bytes_sent_total']
    const updatesMetric = this.topology === 'redis' ? 'tandem_redis_entries_sent_total' : 'tandem_peer_updates_sent_total'
    let bytes = 0
    let updates = 0
    for (const m of this.members) {
      if (!m.relay) continue
      const text = await (await fetch(`${m.relay.httpUrl}/metrics`)).text()
      for (const line of text.split('\n')) {
        const match = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/.exec(line)
        if (!match) continue
        if (bytesMetrics.includes(match[1] as string)) bytes += Number(match[3])
        else if (match[1] === updatesMetric && !(match[2] ?? '').includes('kind="ask"')) updates += Number(match[3])
      }
    }
    return { bytes, updates }
  }

  /** Waits (bounded) until no relay has unacknowledged updates. */
  async settleAcks(): Promise<void> {
    const end = Date.now() + 10_000
    while (Date.now() < end) {
      const pending = this.members.reduce((s, m) => s + (m.ext?.node?.lagReport().reduce((a, l) => a + l.unacked, 0) ?? 0), 0)
      if (pending === 0) return
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  async stopRelay(i: number): Promise<void> {
    const m = this.members[i]!
    m.client?.provider.destroy()
    m.client = null
    await m.relay?.close()
    m.relay = null
    m.ext = null
    m.redisExt = null
    m.doc = null
  }

  async restartRelay(i: number): Promise<void> {
    await this.startRelay(i)
  }

  async close(): Promise<void> {
    for (const m of this.members) {
      m.client?.provider.destroy()
      await m.relay?.close()
      rmSync(m.dataDir, { recursive: true, force: true })
    }
    await this.redis?.stop()
  }
}
