/**
 * relay/wire/wire-frame.ts: a message framed once and written to each receiver's socket arrives as
 * the same bytes `ws.send` would deliver, in order with frames `ws` sends itself; large
 * messages and sockets with an extension go through `ws.send`.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { FRAME_ONCE_LIMIT, sendBinary } from '../../../relay/wire/wire-frame.ts'

const servers: WebSocketServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A loopback server and `n` connected clients; resolves with the server-side sockets and the clients. */
async function pair(n: number, options: { perMessageDeflate?: boolean } = {}): Promise<{ server: WebSocket[]; clients: WebSocket[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options.perMessageDeflate ?? false })
  servers.push(wss)
  await new Promise((r) => wss.once('listening', r))
  const { port } = wss.address() as AddressInfo
  const server: WebSocket[] = []
  const accepted = new Promise<void>((resolve) => wss.on('connection', (ws) => server.push(ws) === n && resolve()))
  const clients = await Promise.all(
    Array.from({ length: n }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: options.perMessageDeflate ?? false })
      ws.binaryType = 'nodebuffer'
      ws.once('open', () => resolve(ws))
      ws.once('error', reject)
    })),
  )
  await accepted
  return { server, clients }
}

/** Resolves with the next `count` binary messages `ws` receives. */
function receive(ws: WebSocket, count: number): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = []
    const onMessage = (data: Buffer): void => {
      got.push(data)
      if (got.length === count) {
        ws.off('message', onMessage)
        resolve(got)
      }
    }
    ws.on('message', onMessage)
  })
}

/** Counts calls of `ws.send` on `sockets` from now on (each still sends). */
function countWsSends(sockets: WebSocket[]): () => number {
  let calls = 0
  for (const ws of sockets) {
    const send = ws.send.bind(ws)
    ws.send = ((...args: Parameters<WebSocket['send']>) => {
      calls++
      return send(...args)
    }) as WebSocket['send']
  }
  return () => calls
}

const payload = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff)

describe('sendBinary', () => {
  test('every length encoding arrives intact at every receiver, in order with ws.send frames', async () => {
    const { server, clients } = await pair(3)
    // 7-bit and 16-bit lengths are framed once and written to the sockets; from
    // FRAME_ONCE_LIMIT on (64-bit lengths included) ws.send writes them without a copy.
    const small = [0, 1, 125, 126, 127, FRAME_ONCE_LIMIT - 1]
    const large = [FRAME_ONCE_LIMIT, 65536, 200_000]
    const lengths = [...small, ...large]
    const sent = lengths.map((length, i) => payload(length, i))
    const received = Promise.all(clients.map((ws) => receive(ws, sent.length + 1)))
    const viaWs = countWsSends(server)
    for (const message of sent.slice(0, small.length)) for (const ws of server) sendBinary(ws, message)
    expect(viaWs(), 'framed once and written to the sockets, not through ws.send').toBe(0)
    for (const message of sent.slice(small.length)) for (const ws of server) sendBinary(ws, message)
    expect(viaWs(), 'large messages through ws.send').toBe(large.length * server.length)
    for (const ws of server) ws.send(Buffer.from('after'), { binary: true })
    for (const got of await received) {
      expect(got.map((b) => b.byteLength)).toEqual([...lengths, 5])
      got.slice(0, -1).forEach((b, i) => expect(Buffer.compare(b, Buffer.from(sent[i]!))).toBe(0))
      expect(got.at(-1)!.toString()).toBe('after')
    }
    for (const ws of clients) ws.close()
  })

  test('with permessage-deflate negotiated, messages still arrive (sent through ws)', async () => {
    const { server, clients } = await pair(1, { perMessageDeflate: true })
    expect(server[0]!.extensions).not.toBe('')
    const message = payload(5000, 7)
    const received = receive(clients[0]!, 1)
    const viaWs = countWsSends(server)
    sendBinary(server[0]!, message)
    expect(viaWs()).toBe(1)
    const [got] = await received
    expect(Buffer.compare(got!, Buffer.from(message))).toBe(0)
    clients[0]!.close()
  })
})
