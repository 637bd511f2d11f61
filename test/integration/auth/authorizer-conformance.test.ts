/**
 * One conformance suite, run against every way a relay decides access: its own signed
 * tokens, and an embedder's `authorize` hook (here: a header naming the user's right). Both
 * must refuse before the room loads, enforce `read`, and scope to the room, over WebSocket
 * and HTTP alike.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRelay, type StartRelayOptions } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeSyncUpdate, MESSAGE_AUTH } from '../../../relay/wire/protocol.ts'
import { SECRET, token, tryUpgrade } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

/** A credential: what a client presents. */
interface Credential {
  token?: string
  headers?: Record<string, string>
}

interface Authorizer {
  name: string
  options: StartRelayOptions
  /** A credential with `right` on `room`. */
  credential(right: 'read' | 'write', room: string): Promise<Credential>
}

const authorizers: Authorizer[] = [
  {
    name: 'signed tokens (--auth-secret)',
    options: { authSecret: SECRET },
    credential: async (right, room) => ({ token: await token({ rooms: [room], right }) }),
  },
  {
    name: 'embedder authorize hook',
    options: {
      extensions: [
        {
          name: 'header-sso',
          authorize: (request, room) => {
            const [right, allowed] = (request.header('x-grant') ?? '').split(' ')
            if (!right) return { refuse: 'no credential' }
            if (allowed !== room) return { refuse: 'not this room', status: 403 }
            return { right: right === 'read' ? 'read' : 'write' }
          },
        },
      ],
    },
    credential: async (right, room) => ({ headers: { 'x-grant': `${right} ${room}` } }),
  },
]

const cleanups = cleanupAfterEach()

function anUpdate(text: string): Uint8Array {
  const d = new Y.Doc()
  d.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(d)
}

function httpHeaders(c: Credential): Record<string, string> {
  return { ...(c.headers ?? {}), ...(c.token ? { authorization: `Bearer ${c.token}` } : {}) }
}

for (const a of authorizers) {
  describe(`authorizer conformance: ${a.name}`, () => {
    it('no credential and another room\'s credential are refused before the room loads, on WebSocket and HTTP', async () => {
      const r = await startRelay(a.options)
      cleanups.push(() => r.stop())
      const none = await tryUpgrade(r.url, 'c-room')
      expect(none.status).toBe(401)
      const other = await a.credential('write', 'elsewhere')
      const wrongRoom = await tryUpgrade(r.url, 'c-room', other)
      expect(wrongRoom.status).toBe(403)
      expect((await fetch(`${r.httpUrl}/api/rooms/c-room`)).status).toBe(401)
      expect((await fetch(`${r.httpUrl}/api/rooms/c-room/update`, { method: 'POST', headers: httpHeaders(other), body: Buffer.from(anUpdate('x')) })).status).toBe(403)
      expect(r.relay.rooms.peek('c-room')).toBeUndefined()
      expect(await r.relay.storage.load('c-room')).toEqual([])
    })

    it('write writes; read receives and is refused writing (told once on WebSocket, 403 on HTTP)', async () => {
      const r = await startRelay(a.options)
      cleanups.push(() => r.stop())
      const writer = await a.credential('write', 'c-room')
      const post = await fetch(`${r.httpUrl}/api/rooms/c-room/update`, { method: 'POST', headers: httpHeaders(writer), body: Buffer.from(anUpdate('by-writer')) })
      expect(post.status).toBe(200)
      const reader = await a.credential('read', 'c-room')
      const ws = await tryUpgrade(r.url, 'c-room', reader)
      expect(ws.status).toBe(101)
      ws.ws.send(encodeSyncUpdate(anUpdate('by-reader')))
      ws.ws.send(encodeSyncUpdate(anUpdate('by-reader-2')))
      await waitFor(() => ws.frames.some((f) => f[0] === MESSAGE_AUTH))
      const readPost = await fetch(`${r.httpUrl}/api/rooms/c-room/update`, { method: 'POST', headers: httpHeaders(reader), body: Buffer.from(anUpdate('by-reader-http')) })
      expect(readPost.status).toBe(403)
      const get = await fetch(`${r.httpUrl}/api/rooms/c-room/update`, { headers: httpHeaders(reader) })
      const doc = new Y.Doc()
      Y.applyUpdate(doc, new Uint8Array(await get.arrayBuffer()))
      expect(doc.getText('t').toString()).toBe('by-writer')
      expect(ws.frames.filter((f) => f[0] === MESSAGE_AUTH)).toHaveLength(1)
      await r.relay.rooms.peek('c-room')!.settled()
      const stored = new Y.Doc()
      for (const u of await r.relay.storage.load('c-room')) Y.applyUpdate(stored, u)
      expect(stored.getText('t').toString()).toBe('by-writer')
      ws.ws.close()
    })
  })
}
