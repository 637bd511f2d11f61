/**
 * STAND-IN relay for the browser tests and the editor benchmark until tandem's relay core
 * (relay/server.ts, test/fixtures startRelay) lands: the classic y-websocket 1.5.4 server plus
 * the "saved" wire extension (type 100) answered from the in-memory document, so the editor's
 * client side of the protocol is exercised. Swap: .tmp/editor/relay-tandem.ts has the same
 * interface on createRelay() (LevelDB in a temp dir, same port on restart).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { createRequire } from 'node:module'
import type * as YTypes from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
// @ts-expect-error the classic server ships no types
import { setupWSConnection, getYDoc } from 'y-websocket-classic/bin/utils'

const MESSAGE_SAVED = 100
// The classic server is CommonJS: use its copy of Yjs, not a second (ESM) one.
const Y = createRequire(import.meta.url)('yjs') as typeof YTypes
type Doc = YTypes.Doc

/** A relay that can be stopped and started again on the same port. */
export interface TestRelay {
  /** `ws://127.0.0.1:<port>` (stable across restarts). */
  readonly url: string
  readonly port: number
  /** Stops the relay, dropping every connection. */
  stop(): Promise<void>
  /** Starts it again on the same port. */
  start(): Promise<void>
}

function savedMessage(doc: Doc): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SAVED)
  encoding.writeVarUint8Array(encoder, Y.encodeStateVector(doc))
  return encoding.toUint8Array(encoder)
}

function answerSaved(ws: WebSocket, docName: string): void {
  const doc = getYDoc(docName) as Doc
  let subscribed = false
  const onUpdate = (): void => {
    if (subscribed && ws.readyState === ws.OPEN) ws.send(savedMessage(doc))
  }
  ws.on('message', (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data))
    if (decoding.readVarUint(decoder) !== MESSAGE_SAVED) return
    subscribed = true
    // Reply after the classic handler ran for this tick's messages.
    setImmediate(onUpdate)
  })
  doc.on('update', () => setImmediate(onUpdate))
  ws.on('close', () => doc.off('update', onUpdate))
}

/** Starts the stand-in relay on a random loopback port. */
export async function startTestRelay(): Promise<TestRelay> {
  let server: Server | null = null
  let wss: WebSocketServer | null = null
  let port = 0
  const start = async (): Promise<void> => {
    server = createServer()
    wss = new WebSocketServer({ server })
    wss.on('connection', (ws, req) => {
      const docName = (req.url ?? '/').slice(1).split('?')[0] ?? ''
      setupWSConnection(ws, req, { docName, gc: true })
      answerSaved(ws, docName)
    })
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  }
  await start()
  return {
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    start,
    async stop() {
      for (const client of wss?.clients ?? []) client.terminate()
      wss?.close()
      server?.closeAllConnections()
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    },
  }
}
