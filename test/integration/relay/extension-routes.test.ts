/**
 * An extension's HTTP routes get the relay's own checks through the RouteKit: a route that
 * writes refuses a read token (403 read-only) and no token (401), a bad room name is a 400, a
 * read of a room nobody holds is a 404, and a thrown non-relay error is a 500 that harms nothing.
 */
import { describe, expect, it } from 'vitest'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import type { RelayExtension } from '../../../relay/server/extension.ts'
import { SECRET, token } from '../auth/helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

const probe: RelayExtension = {
  name: 'probe',
  routes(app, kit) {
    app.post('/api/rooms/:room/probe', async (c) => {
      let room = ''
      try {
        room = kit.roomParam(c)
        const grant = await kit.admit(c, room, true)
        const length = await kit.withRoom(room, true, (r) => r.doc.getText('t').length)
        return c.json({ ok: true, length, author: grant.author ?? null })
      } catch (error) {
        return kit.refuse(c, error, room)
      }
    })
    app.get('/api/rooms/:room/probe', async (c) => {
      try {
        const room = kit.roomParam(c)
        await kit.admit(c, room, false)
        const found = await kit.withRoom(room, false, () => true)
        if (!found) return c.json({ error: 'not-found', reason: 'no such room' }, 404)
        return c.json({ ok: true })
      } catch (error) {
        return kit.refuse(c, error)
      }
    })
    app.get('/api/boom', (c) => kit.refuse(c, new Error('internal detail')))
  },
}

async function relay(): Promise<StartedRelay> {
  const r = await startRelay({ authSecret: SECRET, extensions: [probe] })
  cleanups.push(() => r.stop())
  return r
}

describe('extension routes', () => {
  it('get the relay\'s token, room-name and existence checks', async () => {
    const r = await relay()
    const call = async (method: string, path: string, tokenValue?: string) => {
      const res = await fetch(`${r.httpUrl}${path}`, { method, headers: tokenValue ? { authorization: `Bearer ${tokenValue}` } : {} })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    expect((await call('POST', '/api/rooms/doc/probe')).status).toBe(401)
    expect(await call('POST', '/api/rooms/doc/probe', await token({ rooms: ['doc'], right: 'read' }))).toMatchObject({ status: 403, body: { error: 'read-only' } })
    expect(await call('POST', '/api/rooms/doc/probe', await token({ rooms: ['doc'], sub: 'u1' }))).toEqual({ status: 200, body: { ok: true, length: 0, author: { id: 'u1' } } })
    expect((await call('POST', `/api/rooms/${'x'.repeat(600)}/probe`, await token({ rooms: ['*'] }))).status).toBe(400)
    expect((await call('GET', '/api/rooms/never/probe', await token({ rooms: ['*'], right: 'read' }))).status).toBe(404)
    const boom = await call('GET', '/api/boom')
    expect(boom.status).toBe(500)
    expect(JSON.stringify(boom.body)).not.toContain('internal detail')
    expect((await call('GET', '/health')).status).toBe(200)
  })
})
