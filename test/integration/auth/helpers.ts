/**
 * Helpers of the auth and limits suites: token minting, raw upgrades that report the HTTP
 * status and every byte received, and stock y-websocket providers that pass a token.
 *
 * @module
 */
import * as Y from 'yjs'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { parseAuthSecrets, signToken, type SignOptions } from '../../../relay/auth/tokens.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeAwareness } from '../../../relay/wire/protocol.ts'

export const SECRET = 'test-secret-0123456789abcdef'

/** A token signed with `secret` (default {@link SECRET}); `ttlSeconds` may be negative (already expired). */
export function token(options: Partial<SignOptions> & { rooms: string[] }, secret = SECRET): Promise<string> {
  const key = parseAuthSecrets(secret)[0]!
  return signToken(key, { right: 'write', ttlSeconds: 3600, ...options })
}

/** What a raw upgrade attempt got: the HTTP status (101 when upgraded), the body of a refusal, every WebSocket frame, the close code. */
export interface UpgradeResult {
  status: number
  body: string
  frames: Uint8Array[]
  closeCode: number | null
  ws: WebSocket
}

/** Tries to open `url/room` (with `?token=` when given) and resolves once upgraded or refused. */
export function tryUpgrade(url: string, room: string, opts: { token?: string; headers?: Record<string, string> } = {}): Promise<UpgradeResult> {
  const query = opts.token === undefined ? '' : `?token=${encodeURIComponent(opts.token)}`
  const ws = new WebSocket(`${url}/${encodeURIComponent(room)}${query}`, { headers: opts.headers ?? {} })
  const result: UpgradeResult = { status: 0, body: '', frames: [], closeCode: null, ws }
  ws.on('message', (data: Buffer) => result.frames.push(new Uint8Array(data)))
  ws.on('close', (code) => (result.closeCode = code))
  return new Promise((resolve) => {
    ws.on('open', () => {
      result.status = 101
      resolve(result)
    })
    ws.on('unexpected-response', (_req, res) => {
      result.status = res.statusCode ?? 0
      res.on('data', (chunk: Buffer) => (result.body += chunk.toString()))
      res.on('end', () => resolve(result))
    })
    ws.on('error', () => resolve(result))
  })
}

/** A stock y-websocket provider passing `token` with `params`, as a browser would. */
export async function tokenProvider(url: string, room: string, tokenValue: string | undefined, doc = new Y.Doc()): Promise<{ doc: Y.Doc; provider: WebsocketProvider; destroy(): void }> {
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    params: tokenValue === undefined ? {} : { token: tokenValue },
  })
  await waitFor(() => provider.synced, { message: `provider synced to ${room}` })
  return {
    doc,
    provider,
    destroy() {
      provider.destroy()
      doc.destroy()
    },
  }
}

/** An awareness message setting client `id`'s state (at `clock`) to `state`. */
export function awareness(id: number, clock: number, state: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(state))
  const head = [1, ...varUint(id), ...varUint(clock), ...varUint(json.length)]
  return encodeAwareness(new Uint8Array([...head, ...json]))
}

function varUint(n: number): number[] {
  const out: number[] = []
  while (n > 127) {
    out.push((n & 127) | 128)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}
