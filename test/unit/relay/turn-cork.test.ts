/**
 * relay/wire/turn-cork.ts on a real socket: the first frame of a turn is written at once, the
 * second corks the socket until the turn ends, and every frame arrives, in order.
 */
import { afterEach, expect, test } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { coalesceTurnWrites } from '../../../relay/wire/turn-cork.ts'

let wss: WebSocketServer | null = null
afterEach(async () => {
  await new Promise((r) => (wss ? wss.close(r) : r(undefined)))
  wss = null
})

test('first frame uncorked, the rest of the turn corked, all delivered in order', async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((r) => wss!.once('listening', r))
  const accepted = new Promise<WebSocket>((resolve) => wss!.once('connection', resolve))
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
  await new Promise((r) => client.once('open', r))
  const server = await accepted
  const socket = (server as unknown as { _socket: { writableCorked: number } })._socket
  const got: string[] = []
  const all = new Promise<void>((resolve) => client.on('message', (data) => got.push(String(data)) === 5 && resolve()))

  const corkedAfter: number[] = []
  for (let i = 0; i < 5; i++) {
    coalesceTurnWrites(server)
    server.send(`m${i}`)
    corkedAfter.push(socket.writableCorked)
  }
  expect(corkedAfter).toEqual([0, 1, 1, 1, 1])
  await new Promise((r) => setImmediate(r))
  expect(socket.writableCorked).toBe(0)
  await all
  expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
  client.close()
})
