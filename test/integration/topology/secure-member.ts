/**
 * In-process relays for the TLS and `--peer-listen` tests: `createRelay` with the topology
 * extension, memory storage, port 0, optional TLS and peer-listener settings, and every log
 * line kept (debug level) so a test can assert what was logged.
 */
import { Writable } from 'node:stream'
import { request } from 'node:https'
import type { IncomingMessage } from 'node:http'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket } from 'ws'
import { createRelay, type Relay } from '../../../relay/server/server.ts'
import { createLogger } from '../../../relay/observability/logger.ts'
import { topologyExtension, type TopologyExtension } from '../../../relay/topology/index.ts'
import { SECRET, until, type Client } from './cluster.ts'

export interface SecureMemberOptions {
  id: string
  peers?: string[]
  /** Serve TLS with this certificate and key file. */
  tls?: { certFile: string; keyFile: string }
  peerCa?: Buffer
  peerServername?: string
  peerListen?: string
  secret?: string
}

export interface SecureMember {
  id: string
  relay: Relay
  ext: TopologyExtension
  /** Parsed log lines (JSON objects) so far. */
  logs(): Array<Record<string, unknown>>
  /** Log lines whose `msg` matches. */
  logged(msg: RegExp): Array<Record<string, unknown>>
  linked(): string[]
  stop(): Promise<void>
}

export async function startSecureMember(o: SecureMemberOptions): Promise<SecureMember> {
  const lines: string[] = []
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const logger = createLogger('debug', sink, { format: 'json' })
  const ext = topologyExtension({
    id: o.id, peers: o.peers ?? [], topology: 'mesh', peerSecret: o.secret ?? SECRET,
    backoff: { initialMs: 50, maxMs: 200 },
    ...(o.peerCa ? { peerCa: o.peerCa } : {}),
    ...(o.peerServername ? { peerServername: o.peerServername } : {}),
    ...(o.peerListen ? { peerListen: o.peerListen } : {}),
  })
  const relay = await createRelay(
    { host: '127.0.0.1', port: 0, id: o.id, storage: 'memory', ...(o.tls ? { tlsCert: o.tls.certFile, tlsKey: o.tls.keyFile } : {}) },
    { extensions: [ext], logger },
  )
  const logs = (): Array<Record<string, unknown>> => lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  return {
    id: o.id, relay, ext, logs,
    logged: (msg) => logs().filter((l) => typeof l.msg === 'string' && msg.test(l.msg)),
    linked: () => ext.node?.linkedPeers() ?? [],
    stop: () => relay.close(),
  }
}

/** A `ws` WebSocket class that trusts `ca` (for y-websocket's `WebSocketPolyfill`). */
export function webSocketTrusting(ca: Buffer): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols ?? [], { ca })
    }
  } as typeof WebSocket
}

/** A stock y-websocket client on `url` (`ws://` or `wss://`), trusting `ca` when given. */
export function secureClient(url: string, room: string, ca?: Buffer): Client {
  const doc = new Y.Doc()
  const WebSocketPolyfill = ca ? webSocketTrusting(ca) : WebSocket
  const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocketPolyfill as never, disableBc: true })
  return { doc, provider, destroy: () => { provider.destroy(); doc.destroy() } }
}

/** GET `url` over HTTPS trusting only `ca`: status and body. */
export function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: 'GET' }, (res: IncomingMessage) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Opens a WebSocket to `url` and reports how it ended: `open`, or the HTTP status it was refused with, or the error. */
export function tryUpgrade(url: string, options: { ca?: Buffer } = {}): Promise<{ outcome: 'open' } | { outcome: 'refused'; status: number } | { outcome: 'error'; message: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options.ca ? { ca: options.ca } : {})
    ws.once('open', () => { ws.terminate(); resolve({ outcome: 'open' }) })
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume()
      resolve({ outcome: 'refused', status: res.statusCode ?? 0 })
      ws.terminate()
    })
    ws.once('error', (err) => resolve({ outcome: 'error', message: err.message }))
  })
}

export { until }
