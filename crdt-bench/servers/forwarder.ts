/**
 * The naive forwarder: the floor for a relay that forwards bytes. It decodes nothing and
 * keeps no document: every frame a client sends goes, as received, to every other client of
 * the same room (the URL path). It only peeks at the first two bytes so a joining client's
 * sync step 1 is answered with an empty sync step 2 (the load starts from empty rooms)
 * instead of being broadcast. Not a usable server: a late joiner never gets the history.
 *
 *   node forwarder.js PORT
 *
 * @module
 */
import http from 'node:http'
import { WebSocketServer, type WebSocket, type RawData } from 'ws'

const port = Number(process.argv[2])
// A clean exit on SIGTERM, so `--profile` (node --cpu-prof) writes its profile.
process.on('SIGTERM', () => process.exit(0))
/** messageSync, syncStep2, an empty update (0 structs, 0 delete sets) as a length-prefixed byte array. */
const EMPTY_STEP_2 = new Uint8Array([0, 1, 2, 0, 0])
const rooms = new Map<string, Set<WebSocket>>()

const server = http.createServer((_req, res) => res.end('forwarder'))
const wss = new WebSocketServer({ noServer: true })
server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => join(ws, req.url ?? '/')))

function join(ws: WebSocket, room: string): void {
  let peers = rooms.get(room)
  if (!peers) rooms.set(room, (peers = new Set()))
  peers.add(ws)
  ws.on('message', (data: RawData) => {
    const frame = data as Buffer
    if (frame[0] === 0 && frame[1] === 0) {
      ws.send(EMPTY_STEP_2)
      return
    }
    for (const peer of peers) if (peer !== ws) peer.send(frame)
  })
  ws.on('close', () => {
    peers.delete(ws)
    if (peers.size === 0) rooms.delete(room)
  })
}

server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`))
