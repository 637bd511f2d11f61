/**
 * `tandem/client` against a real relay: edits and reads in every format, refusals as
 * `TandemError`s, the relay's change feed followed with the caller as author, and the relay's
 * signed webhooks checked by `verifyWebhook` in a real HTTP receiver (a tampered body refused).
 */
import { describe, expect, it } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { parseAuthSecrets, signToken } from '../../../relay/auth/tokens.ts'
import { TandemClient, TandemError, verifyWebhook, WebhookVerificationError, type FeedEvent, type WebhookEvent } from '../../../client/index.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const SECRET = 'client-test-secret-0123456789'
const cleanups = cleanupAfterEach()
async function relay(opts: Parameters<typeof startRelay>[0] = {}): Promise<StartedRelay> {
  const r = await startRelay({ authSecret: SECRET, ...opts })
  cleanups.push(() => r.stop())
  return r
}
const key = parseAuthSecrets(SECRET)[0]!
const token = (right: 'read' | 'write', rooms = ['notes']) => signToken(key, { rooms, right, ttlSeconds: 600, sub: 'agent-1', name: 'Agent' })

describe('TandemClient against a relay', () => {
  it('edit, then read as json, prosemirror, markdown and text; an unknown room reads as null', async () => {
    const r = await relay()
    const tandem = new TandemClient({ url: r.url, token: await token('write') })
    const result = await tandem.edit('notes', [
      { op: 'insertText', at: 1, text: 'Meeting notes' },
      { op: 'setBlockType', at: 1, type: 'heading', attrs: { level: 1 } },
      { op: 'insertBlocks', at: 'end', blocks: [{ type: 'paragraph', content: [{ type: 'text', text: 'decided', marks: [{ type: 'strong' }] }] }] },
      { op: 'increment', name: 'reviews', by: 2 },
    ])
    expect(result).toMatchObject({ ok: true, ops: 4 })
    expect(typeof result.stateVector).toBe('string')
    expect(await tandem.read('notes', 'markdown')).toBe('# Meeting notes\n\n**decided**')
    expect(await tandem.read('notes', 'text')).toBe('Meeting notes\n\ndecided')
    expect(await tandem.read('notes', 'prosemirror')).toEqual({
      type: 'doc',
      content: [
        { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Meeting notes' }] },
        { type: 'paragraph', content: [{ type: 'text', text: 'decided', marks: [{ type: 'strong' }] }] },
      ],
    })
    const json = await tandem.read('notes')
    expect(Object.keys(json ?? {}).sort()).toEqual(['blocks', 'crdt:counter:reviews'])
    expect(await new TandemClient({ url: r.httpUrl, token: await token('read', ['*']) }).read('nobody', 'text')).toBeNull()
  })

  it('refusals reject with TandemError: the bad op named, read-only, no token', async () => {
    const r = await relay()
    const writer = new TandemClient({ url: r.httpUrl, token: async () => token('write') })
    const bad = await writer.edit('notes', [{ op: 'insertText', at: 1, text: 'ok' }, { op: 'insertText', at: 99, text: 'x' }]).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(TandemError)
    expect(bad).toMatchObject({ status: 400, code: 'invalid-operation', reason: 'ops[1] (insertText): position 99 is past the end of the document (length 4)' })
    const reader = new TandemClient({ url: r.httpUrl, token: await token('read') })
    expect(await reader.edit('notes', [{ op: 'increment', name: 'n' }]).catch((e: unknown) => e)).toMatchObject({ status: 403, code: 'read-only' })
    expect(await new TandemClient({ url: r.httpUrl }).read('notes').catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'unauthorized' })
  })

  it('follows the relay’s change feed: an edit arrives as a changed event with the caller as author; a resume gets what was missed', async () => {
    const r = await relay()
    const writer = new TandemClient({ url: r.httpUrl, token: await token('write') })
    const reader = new TandemClient({ url: r.httpUrl, token: await token('read') })
    const events: FeedEvent[] = []
    let abort = new AbortController()
    let opened!: () => void
    const open = new Promise<void>((resolve) => (opened = resolve))
    // a feed without Last-Event-ID starts now: edit only once it is open
    let following = reader.events('notes', { signal: abort.signal, onOpen: () => opened(), onEvent: (e) => void events.push(e) })
    await open
    const first = await writer.edit('notes', [{ op: 'insertText', at: 1, text: 'first' }])
    await waitFor(() => events.some((e) => e.type === 'changed' && e.stateVector === first.stateVector), { timeoutMs: 15_000, message: 'the edit’s change event' })
    abort.abort()
    await following
    expect(events.at(-1)).toMatchObject({ type: 'changed', room: 'notes', authors: [{ id: 'agent-1', name: 'Agent' }] })

    // away: a change happens (a witness that stayed sees it published); back with the last id handled: it arrives
    const handled = events.at(-1)!.id
    const witness: FeedEvent[] = []
    const stopWitness = new AbortController()
    let witnessOpen!: () => void
    const witnessing = new Promise<void>((resolve) => (witnessOpen = resolve))
    const watching = reader.events('notes', { signal: stopWitness.signal, onOpen: () => witnessOpen(), onEvent: (e) => void witness.push(e) })
    await witnessing
    const missed = await writer.edit('notes', [{ op: 'insertText', at: 'end', text: ' second' }])
    await waitFor(() => witness.some((e) => e.type === 'changed' && e.stateVector === missed.stateVector), { timeoutMs: 15_000, message: 'the change published' })
    stopWitness.abort()
    await watching
    const resumed: FeedEvent[] = []
    abort = new AbortController()
    following = reader.events('notes', { lastEventId: handled, signal: abort.signal, onEvent: (e) => void resumed.push(e) })
    await waitFor(() => resumed.some((e) => e.type === 'changed' && e.stateVector === missed.stateVector), { timeoutMs: 15_000, message: 'the missed change' })
    abort.abort()
    await following
    expect(resumed.every((e) => e.type === 'changed' && e.id !== handled)).toBe(true)
  })

  it('a browser on another origin may call it: the CORS preflights of PATCH and of the feed (Authorization, Last-Event-ID) pass', async () => {
    const r = await relay({ corsOrigins: ['https://app.example'] })
    const preflight = (path: string, method: string, headers: string) =>
      fetch(`${r.httpUrl}${path}`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': method, 'access-control-request-headers': headers } })
    const patch = await preflight('/api/rooms/notes', 'PATCH', 'authorization,content-type')
    expect(patch.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(patch.headers.get('access-control-allow-methods')).toContain('PATCH')
    expect(patch.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')
    const feed = await preflight('/api/rooms/notes/events', 'GET', 'authorization,last-event-id')
    expect(feed.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(expect.arrayContaining(['authorization', 'last-event-id']))
  })

  it('verifyWebhook accepts the relay’s signed webhooks and refuses a tampered body', async () => {
    const received: Array<{ event?: WebhookEvent; error?: unknown }> = []
    const tampered: unknown[] = []
    const secret = `whsec_${randomBytes(24).toString('base64')}`
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        try {
          received.push({ event: verifyWebhook(secret, req.headers, new Uint8Array(body)) })
        } catch (error) {
          received.push({ error })
        }
        try {
          verifyWebhook(secret, req.headers, body.toString().replace('notes', 'other'))
        } catch (error) {
          tampered.push(error)
        }
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
    const r = await relay({ webhooks: [`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`], webhookSecret: secret, webhookDebounceMs: 50, webhookMaxWaitMs: 200 })
    const writer = new TandemClient({ url: r.httpUrl, token: await token('write') })
    await writer.edit('notes', [{ op: 'setKey', name: 'meta', key: 'status', value: 'done' }])
    await waitFor(() => received.some((m) => m.event?.type === 'room.changed'), { timeoutMs: 20_000, message: 'a room.changed webhook' })
    expect(received.every((m) => m.error === undefined)).toBe(true)
    const changed = received.find((m) => m.event?.type === 'room.changed')!.event!
    expect(changed.data).toMatchObject({ room: 'notes', authors: [{ id: 'agent-1', name: 'Agent' }] })
    expect(tampered.length).toBe(received.length)
    expect(tampered.every((e) => e instanceof WebhookVerificationError)).toBe(true)
  })
})
