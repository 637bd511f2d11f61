/**
 * A lean load-generating client that speaks either the y-websocket protocol (tandem, the
 * classic server) or Hocuspocus's framing (every message prefixed with the document name,
 * an auth message first). It holds a real Y.Doc so that what it measures is what an editor
 * would see: the moment an update has been applied locally.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'

export type Dialect = 'y-websocket' | 'hocuspocus'

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_AUTH = 2
const HOCUSPOCUS_SYNC_REPLY = 4
const REMOTE = Symbol('remote')

/** One connected client of the benchmark. */
export class BenchClient {
  readonly doc = new Y.Doc()
  private readonly ws: WebSocket
  private syncedResolve!: () => void
  /** Resolves when the server's sync step 2 has been applied. */
  readonly synced = new Promise<void>((resolve) => { this.syncedResolve = resolve })
  readonly opened: Promise<void>
  /** Made at the first cursor move, once the doc's client id is final. */
  private awareness: Awareness | null = null

  constructor(
    baseUrl: string,
    private readonly room: string,
    private readonly dialect: Dialect,
  ) {
    const url = dialect === 'y-websocket' ? `${baseUrl}/${room}` : baseUrl
    this.ws = new WebSocket(url)
    this.ws.binaryType = 'nodebuffer'
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
    this.ws.on('open', () => {
      if (dialect === 'hocuspocus') {
        this.send((e) => {
          encoding.writeVarUint(e, MESSAGE_AUTH)
          encoding.writeVarUint(e, 0)
          encoding.writeVarString(e, 'token')
        })
      }
      this.send((e) => {
        encoding.writeVarUint(e, MESSAGE_SYNC)
        syncProtocol.writeSyncStep1(e, this.doc)
      })
    })
    this.ws.on('message', (data: Buffer) => this.receive(data))
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE) return
      this.send((e) => {
        encoding.writeVarUint(e, MESSAGE_SYNC)
        syncProtocol.writeUpdate(e, update)
      })
    })
  }

  /** Sends this client's cursor at `index` as an awareness update, as an editor does after each keystroke. */
  sendCursor(index: number): void {
    this.awareness ??= new Awareness(this.doc)
    this.awareness.setLocalStateField('cursor', { anchor: index, head: index })
    const update = encodeAwarenessUpdate(this.awareness, [this.doc.clientID])
    this.send((e) => {
      encoding.writeVarUint(e, MESSAGE_AWARENESS)
      encoding.writeVarUint8Array(e, update)
    })
  }

  private send(write: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder()
    if (this.dialect === 'hocuspocus') encoding.writeVarString(e, this.room)
    write(e)
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encoding.toUint8Array(e))
  }

  private receive(data: Buffer): void {
    const d = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    if (this.dialect === 'hocuspocus') decoding.readVarString(d)
    const type = decoding.readVarUint(d)
    if (type !== MESSAGE_SYNC && type !== HOCUSPOCUS_SYNC_REPLY) return
    const reply = encoding.createEncoder()
    const kind = syncProtocol.readSyncMessage(d, reply, this.doc, REMOTE)
    if (kind === syncProtocol.messageYjsSyncStep2) this.syncedResolve()
    if (encoding.length(reply) > 0) {
      this.send((e) => {
        encoding.writeVarUint(e, MESSAGE_SYNC)
        encoding.writeUint8Array(e, encoding.toUint8Array(reply))
      })
    }
  }

  close(): void {
    this.awareness?.destroy()
    this.ws.close()
  }
}

/**
 * A client with no Y.Doc: it sends bytes (a whole document as one update, a state vector) and
 * only looks at the sync step 2 answers it gets. Lets the benchmark hold many large rooms open
 * without holding their documents in the load generator.
 */
export class DoclessClient {
  private readonly ws: WebSocket
  readonly opened: Promise<void>
  private waiters: Array<(payloadBytes: number) => void> = []

  constructor(baseUrl: string, private readonly room: string, private readonly dialect: Dialect) {
    this.ws = new WebSocket(dialect === 'y-websocket' ? `${baseUrl}/${room}` : baseUrl)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
    })
    this.ws.on('open', () => {
      if (dialect === 'hocuspocus') {
        this.send((e) => {
          encoding.writeVarUint(e, MESSAGE_AUTH)
          encoding.writeVarUint(e, 0)
          encoding.writeVarString(e, 'token')
        })
      }
    })
    this.ws.on('message', (data: Buffer) => {
      const d = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      if (this.dialect === 'hocuspocus') decoding.readVarString(d)
      const type = decoding.readVarUint(d)
      if (type !== MESSAGE_SYNC && type !== HOCUSPOCUS_SYNC_REPLY) return
      if (decoding.readVarUint(d) !== syncProtocol.messageYjsSyncStep2) return
      const payload = decoding.readVarUint8Array(d)
      const waiter = this.waiters.shift()
      waiter?.(payload.byteLength)
    })
  }

  private send(write: (e: encoding.Encoder) => void): void {
    const e = encoding.createEncoder()
    if (this.dialect === 'hocuspocus') encoding.writeVarString(e, this.room)
    write(e)
    this.ws.send(encoding.toUint8Array(e))
  }

  /** Sends `update` as a sync update message. */
  sendUpdate(update: Uint8Array): void {
    this.send((e) => {
      encoding.writeVarUint(e, MESSAGE_SYNC)
      syncProtocol.writeUpdate(e, update)
    })
  }

  /** Sends sync step 1 with `stateVector`; resolves with the byte size of the server's step 2 answer. */
  ask(stateVector: Uint8Array): Promise<number> {
    const answer = new Promise<number>((resolve) => this.waiters.push(resolve))
    this.send((e) => {
      encoding.writeVarUint(e, MESSAGE_SYNC)
      encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep1)
      encoding.writeVarUint8Array(e, stateVector)
    })
    return answer
  }

  close(): void {
    this.ws.close()
  }
}
