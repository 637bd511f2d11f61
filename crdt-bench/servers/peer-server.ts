/**
 * The servers tandem's relay is measured against, each started in its own process so that
 * CPU and memory are attributed to one server at a time:
 *
 *   tsx crdt-bench/servers/peer-server.ts classic PORT     # y-websocket 1.5.4's setupWSConnection
 *   tsx crdt-bench/servers/peer-server.ts hocuspocus PORT  # @hocuspocus/server 3 (Node 20)
 *
 * Both keep documents in memory, as they do when no persistence is configured.
 */
import http from 'node:http'
import { createRequire } from 'node:module'
import { WebSocketServer } from 'ws'

const require = createRequire(import.meta.url)
const [kind, portArg] = process.argv.slice(2)
const port = Number(portArg)
// A clean exit on SIGTERM, so `--profile` (node --cpu-prof) writes its profile.
process.on('SIGTERM', () => process.exit(0))

if (kind === 'classic') {
  const { setupWSConnection } = require('y-websocket-classic/bin/utils') as {
    setupWSConnection: (conn: unknown, req: http.IncomingMessage) => void
  }
  const server = http.createServer((_req, res) => res.end('okay'))
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', (ws, req) => setupWSConnection(ws, req))
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)))
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`))
} else if (kind === 'hocuspocus') {
  // Imported here so the classic server's CommonJS copy of yjs is never loaded beside it.
  const { Server: HocuspocusServer } = await import('@hocuspocus/server')
  const server = new HocuspocusServer({ port, address: '127.0.0.1', quiet: true })
  await server.listen()
  process.stdout.write(`listening ${port}\n`)
} else {
  process.stderr.write(`unknown server kind ${kind}\n`)
  process.exit(2)
}
