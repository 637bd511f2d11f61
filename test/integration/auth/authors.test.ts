/**
 * Authors come from the grant, never from the client: a token's `sub` and `name` are attached
 * to the connection (and to an HTTP write), and every update it sends reaches the extensions
 * with that author. A token with a malformed `sub` is refused. (Each writer writes its own root
 * type, so its update decodes alone.)
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SignJWT } from 'jose'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { authorOf, type Author } from '../../../relay/room/author.ts'
import type { RelayExtension } from '../../../relay/server/extension.ts'
import { parseAuthSecrets } from '../../../relay/auth/tokens.ts'
import { SECRET, token, tokenProvider, tryUpgrade } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

/** A relay with `--auth-secret` and an extension that records each update's text and author. */
async function recordingRelay(): Promise<{ relay: StartedRelay; seen: Array<{ text: string; author: Author | null }> }> {
  const seen: Array<{ text: string; author: Author | null }> = []
  const recorder: RelayExtension = {
    name: 'authors',
    onUpdate(room, update, origin) {
      const d = new Y.Doc()
      Y.applyUpdate(d, update)
      seen.push({ text: d.getText('t').toString() + d.getText('n').toString(), author: authorOf(origin) })
    },
  }
  const relay = await startRelay({ authSecret: SECRET, extensions: [recorder] })
  cleanups.push(() => relay.stop())
  return { relay, seen }
}

describe('authors of updates', () => {
  it('a WebSocket write carries its token\'s sub and name; a token without sub writes with no author', async () => {
    const { relay, seen } = await recordingRelay()
    const ada = await tokenProvider(relay.url, 'doc', await token({ rooms: ['doc'], sub: 'u-ada', name: 'Ada' }))
    cleanups.push(() => ada.destroy())
    ada.doc.getText('t').insert(0, 'by-ada ')
    await waitFor(() => seen.some((s) => s.text.includes('by-ada')))
    const anon = await tokenProvider(relay.url, 'doc', await token({ rooms: ['doc'] }), new Y.Doc())
    cleanups.push(() => anon.destroy())
    anon.doc.getText('n').insert(0, 'by-nobody ')
    await waitFor(() => seen.some((s) => s.text.includes('by-nobody')))
    expect(seen.find((s) => s.text.includes('by-ada'))!.author).toEqual({ id: 'u-ada', name: 'Ada' })
    expect(seen.find((s) => s.text.includes('by-nobody'))!.author).toBeNull()
  })

  it('an HTTP update carries the token\'s author', async () => {
    const { relay, seen } = await recordingRelay()
    const d = new Y.Doc()
    d.getText('t').insert(0, 'over-http')
    const res = await fetch(`${relay.httpUrl}/api/rooms/doc/update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token({ rooms: ['doc'], sub: 'svc-indexer' })}` },
      body: Y.encodeStateAsUpdate(d) as Uint8Array<ArrayBuffer>,
    })
    expect(res.status).toBe(200)
    expect(seen.find((s) => s.text === 'over-http')!.author).toEqual({ id: 'svc-indexer' })
  })

  it('a token whose sub is not a short string is refused (401), nothing written', async () => {
    const { relay, seen } = await recordingRelay()
    const key = parseAuthSecrets(SECRET)[0]!
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ rooms: ['doc'], right: 'write', ...claims }).setProtectedHeader({ alg: 'HS256', kid: key.kid }).setExpirationTime('1h').sign(key.secret)
    for (const claims of [{ sub: 42 }, { sub: '' }, { sub: 'x'.repeat(201) }, { sub: 'ok', name: { first: 'Ada' } }]) {
      const result = await tryUpgrade(relay.url, 'doc', { token: await sign(claims) })
      expect(result.status, JSON.stringify(claims)).toBe(401)
    }
    expect(seen).toEqual([])
  })
})
