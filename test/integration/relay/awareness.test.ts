import { describe, expect, it } from 'vitest'
import { startRelay } from '../../fixtures/relay.ts'
import { connectProvider, RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { encodeQueryAwareness, MESSAGE_AWARENESS } from '../../../relay/wire/protocol.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()

describe('awareness', () => {
  it('is forwarded to the room, answered on query, and removed for everybody when a socket closes', async () => {
    const r = await startRelay()
    cleanups.push(() => r.stop())
    const a = await connectProvider(r.url, 'aw')
    const b = await connectProvider(r.url, 'aw')
    const other = await connectProvider(r.url, 'other-room')
    cleanups.push(() => b.destroy(), () => other.destroy())
    a.provider.awareness.setLocalStateField('user', { name: 'ada' })
    await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'ada', { message: 'awareness forwarded' })
    expect(other.provider.awareness.getStates().has(a.doc.clientID)).toBe(false)

    const raw = await RawClient.connect(r.url, 'aw')
    cleanups.push(() => raw.close())
    const before = raw.frames.length
    raw.send(encodeQueryAwareness())
    await waitFor(() => raw.frames.slice(before).some((f) => f[0] === MESSAGE_AWARENESS), { message: 'query answered' })

    // Close a's socket without a goodbye: the relay must remove its state for b.
    a.provider.shouldConnect = false
    a.provider.ws?.close()
    await waitFor(() => !b.provider.awareness.getStates().has(a.doc.clientID), { message: 'awareness removed on close' })
    const room = r.relay.rooms.peek('aw')!
    expect(room.awareness.getStates().has(a.doc.clientID)).toBe(false)
    a.destroy()
  })
})
