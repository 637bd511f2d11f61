/**
 * Helpers of the history suites: the HTTP API with or without a token, y-websocket clients that
 * present a token, and an integrity check of a version (its state hashes to its id).
 *
 * @module
 */
import * as Y from 'yjs'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import { parseAuthSecrets, signToken } from '../../../relay/auth/tokens.ts'
import { stateOf, versionId } from '../../../relay/history/capture.ts'
import { waitFor } from '../../fixtures/wait.ts'

export const SECRET = 'history-suite-secret-0123456789abcdef'
const KEY = parseAuthSecrets(SECRET)[0]!

/** A token for `room`. */
export function token(room: string, right: 'read' | 'write', sub?: string, name?: string): Promise<string> {
  return signToken(KEY, { rooms: [room], right, ttlSeconds: 3600, ...(sub ? { sub } : {}), ...(name ? { name } : {}) })
}

/** A version as the API lists it. */
export interface ApiVersion {
  id: string
  time: string
  kind: 'edit' | 'restore'
  name?: string
  namedBy?: { id?: string; name?: string; verified: boolean }
  restoredFrom?: string
  authors: Array<{ id?: string; name?: string; verified: boolean }>
  changes: { inserted: number; deleted: number }
}

/** The history API of one relay, for one room, as one token holder (none: an open relay). */
export class HistoryApi {
  constructor(
    readonly httpUrl: string,
    readonly room: string,
    readonly bearer?: string,
  ) {}

  as(bearer: string | undefined): HistoryApi {
    return new HistoryApi(this.httpUrl, this.room, bearer)
  }

  /** Any request under `/api/rooms/<room>/versions`. */
  request(method: string, path = '', body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {}
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`
    let payload: string | undefined
    if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = typeof body === 'string' ? body : JSON.stringify(body)
    }
    return fetch(`${this.httpUrl}/api/rooms/${encodeURIComponent(this.room)}/versions${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) })
  }

  async list(): Promise<ApiVersion[]> {
    const res = await this.request('GET')
    if (res.status !== 200) throw new Error(`list: ${res.status} ${await res.text()}`)
    return ((await res.json()) as { versions: ApiVersion[] }).versions
  }

  /** The version's state as a Yjs update. */
  async update(id: string): Promise<Uint8Array> {
    const res = await this.request('GET', `/${id}?format=update`)
    if (res.status !== 200) throw new Error(`update: ${res.status} ${await res.text()}`)
    return new Uint8Array(await res.arrayBuffer())
  }

  async json(id: string): Promise<Record<string, unknown>> {
    const res = await this.request('GET', `/${id}`)
    if (res.status !== 200) throw new Error(`json: ${res.status} ${await res.text()}`)
    return (await res.json()) as Record<string, unknown>
  }

  async diff(id: string, from: string): Promise<DiffAnswer> {
    const res = await this.request('GET', `/${id}/diff?from=${from}`)
    if (res.status !== 200) throw new Error(`diff: ${res.status} ${await res.text()}`)
    return (await res.json()) as DiffAnswer
  }

  async name(name: string): Promise<ApiVersion> {
    const res = await this.request('POST', '', { name })
    if (res.status !== 201) throw new Error(`name: ${res.status} ${await res.text()}`)
    return ((await res.json()) as { version: ApiVersion }).version
  }

  async restore(id: string): Promise<{ version: ApiVersion; before: ApiVersion | null; restored: boolean }> {
    const res = await this.request('POST', `/${id}/restore`)
    if (res.status !== 200) throw new Error(`restore: ${res.status} ${await res.text()}`)
    return (await res.json()) as { version: ApiVersion; before: ApiVersion | null; restored: boolean }
  }

  /** Waits until the room has at least `count` versions; returns them (newest first). */
  async waitVersions(count: number, timeoutMs = 20_000): Promise<ApiVersion[]> {
    return waitFor(async () => {
      const versions = await this.list().catch(() => [])
      return versions.length >= count ? versions : null
    }, { timeoutMs, intervalMs: 25, message: `${count} versions of ${this.room}` })
  }

  /** Waits for a version newer than `newest` (by id) and returns the list (newest first). */
  async waitNewVersion(newest: string | undefined, timeoutMs = 20_000): Promise<ApiVersion[]> {
    return waitFor(async () => {
      const versions = await this.list().catch(() => [])
      return versions.length > 0 && versions[0]!.id !== newest ? versions : null
    }, { timeoutMs, intervalMs: 25, message: `a new version of ${this.room}` })
  }
}

/** A diff as the API answers it. */
export interface DiffAnswer {
  from: ApiVersion
  to: ApiVersion
  authors: ApiVersion['authors']
  changes: { inserted: number; deleted: number }
  doc: PmNode
}

/** ProseMirror JSON. */
export interface PmNode {
  type: string
  text?: string
  attrs?: Record<string, unknown>
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>
  content?: PmNode[]
}

/** Text nodes of a ProseMirror JSON document, in order. */
export function textNodes(node: PmNode): PmNode[] {
  if (node.type === 'text') return [node]
  return (node.content ?? []).flatMap(textNodes)
}

/** A doc holding `update`. */
export function docOf(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}

/** Whether the state `update` holds is the one version `id` names (its id is a hash of its state vector and deletions). */
export function hashesTo(update: Uint8Array, id: string): boolean {
  const doc = docOf(update)
  try {
    return versionId(stateOf(doc)) === id
  } finally {
    doc.destroy()
  }
}

/** The block layout's text of `doc`. */
export const blocks = (doc: Y.Doc): Y.Text => doc.getText('blocks')

/** Exact content of the block layout: its delta, block markers as their map's JSON. */
export function exactContent(doc: Y.Doc): string {
  return JSON.stringify(blocks(doc).toDelta().map((op: { insert: unknown; attributes?: unknown }) => ({ ...op, insert: op.insert instanceof Y.Map ? { marker: op.insert.toJSON() } : op.insert })))
}

/** A stock y-websocket client presenting `bearer` (if any); resolves once synced. */
export async function connect(url: string, room: string, bearer?: string, doc = new Y.Doc()): Promise<{ doc: Y.Doc; provider: WebsocketProvider; destroy(): void }> {
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    ...(bearer ? { params: { token: bearer } } : {}),
  })
  await waitFor(() => provider.synced, { timeoutMs: 15_000, message: `client synced to ${room}` })
  return {
    doc,
    provider,
    destroy() {
      provider.destroy()
      doc.destroy()
    },
  }
}
