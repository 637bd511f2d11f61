/**
 * `npm run bench:integrations` — what the change feed and the webhooks cost and how fast they are,
 * on a relay running as a child process (`relay/cli.ts` under tsx, LevelDB in a temp dir, default
 * flags but `--history off`), writers posting Yjs updates over HTTP, an SSE consumer of the
 * all-rooms feed and a webhook receiver on 127.0.0.1.
 *
 * 1. Latency and CPU: `--rooms` rooms each written `--rate` times a second for `--seconds`:
 *    - feed latency: from an update's HTTP 200 (accepted) to the first `changed` event whose state
 *      vector covers it, p50/p99;
 *    - webhook latency: from the same moment to the first accepted `room.changed` covering it
 *      (debounced: `--debounce-ms`, the relay's default 2000, and max wait 10 s);
 *    - CPU of the relay process (`/proc/<pid>/stat` utime+stime) per update and per feed event,
 *      also for a baseline run of the same load with no consumer and no webhook (the event log is
 *      built in: the baseline pays for it too).
 * 2. Outage: the receiver down for `--outage-s` (default 60; `--outage-s 600` for ten minutes)
 *    while the rooms keep changing: the outbox size every second (peak, at the end), then the time
 *    to drain it once the receiver is back.
 *
 * Flags: --rooms N (20), --rate N (5 updates/s per room), --seconds S (20), --outage-s S (60),
 *        --debounce-ms MS (2000), --json PATH (crdt-bench/results/integrations.json).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { execSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const ROOMS = arg('--rooms', 20)
const RATE = arg('--rate', 5)
const SECONDS = arg('--seconds', 20)
const OUTAGE_S = arg('--outage-s', 60)
const DEBOUNCE = arg('--debounce-ms', 2000)
const jsonIndex = process.argv.indexOf('--json')
const JSON_PATH = jsonIndex >= 0 ? process.argv[jsonIndex + 1]! : 'crdt-bench/results/integrations.json'
const SECRET = `whsec_${Buffer.from('bench-webhook-key-0123456789abcdef').toString('base64')}`
const TICK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const pct = (values: number[], p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** A relay child; resolves once it listens. */
async function startRelay(data: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'relay/cli.ts'), '--host', '127.0.0.1', '--port', '0', '--data', data, '--history', 'off', '--per-ip-exempt', '127.0.0.1,::1,::ffff:127.0.0.1', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.once('exit', (code) => reject(new Error(`relay exited (${code}) before listening`)))
  })
  return { child, url }
}

/** CPU seconds (user + system) of process `pid` so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICK
}

/** Writers: one Y.Doc per room; `pending` holds [clock, acceptedAt] of updates not yet seen in the feed / webhooks. */
class Writers {
  readonly docs = Array.from({ length: ROOMS }, () => new Y.Doc())
  readonly feedPending = this.docs.map(() => [] as Array<[number, number]>)
  readonly hookPending = this.docs.map(() => [] as Array<[number, number]>)
  updates = 0
  constructor(private readonly url: string) {}

  async write(i: number, track: boolean): Promise<void> {
    const doc = this.docs[i]!
    const before = Y.encodeStateVector(doc)
    doc.getText('t').insert(doc.getText('t').length, 'x')
    const res = await fetch(`${this.url}/api/rooms/room-${i}/update`, { method: 'POST', body: Y.encodeStateAsUpdate(doc, before) as Uint8Array<ArrayBuffer> })
    await res.body?.cancel()
    if (!res.ok) throw new Error(`POST ${res.status}`)
    this.updates++
    if (track) {
      const clock = Y.getState(doc.store, doc.clientID)
      this.feedPending[i]!.push([clock, performance.now()])
      this.hookPending[i]!.push([clock, performance.now()])
    }
  }

  /** Resolves the pending updates of room `i` covered by `sv` (base64); returns their latencies. */
  resolve(list: Array<Array<[number, number]>>, i: number, svBase64: string, at: number): number[] {
    const sv = Y.decodeStateVector(new Uint8Array(Buffer.from(svBase64, 'base64')))
    const clock = sv.get(this.docs[i]!.clientID) ?? 0
    const pending = list[i]!
    const out: number[] = []
    while (pending.length > 0 && pending[0]![0] <= clock) out.push(at - pending.shift()![1])
    return out
  }

  /** Every room written `RATE` times a second for `seconds`. */
  async load(seconds: number, track: boolean): Promise<void> {
    const end = performance.now() + seconds * 1000
    await Promise.all(this.docs.map(async (_, i) => {
      await sleep((i / ROOMS) * (1000 / RATE))
      for (let next = performance.now(); performance.now() < end; next += 1000 / RATE) {
        await this.write(i, track)
        const wait = next + 1000 / RATE - performance.now()
        if (wait > 0) await sleep(wait)
      }
    }))
  }
}

/** A consumer of `url`/api/events calling `onChanged` with each event's data and arrival time. */
async function consume(url: string, onChanged: (data: { room: string; stateVector: string }, at: number) => void): Promise<AbortController> {
  const abort = new AbortController()
  const res = await fetch(`${url}/api/events`, { signal: abort.signal })
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          if (!block.includes('event: changed')) continue
          const data = block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)
          onChanged(JSON.parse(data) as { room: string; stateVector: string }, performance.now())
        }
      }
    } catch {
      // aborted
    }
  })()
  return abort
}

/** A webhook receiver: 204 while up, calling `onChanged` for each room.changed. */
class Receiver {
  server: Server | null = null
  port = 0
  constructor(private readonly onMessage: (body: { type: string; data: { room: string; stateVector: string } }, at: number) => void) {}
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.onMessage(JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: { room: string; stateVector: string } }, performance.now())
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }
  async down(): Promise<void> {
    const server = this.server
    this.server = null
    server?.closeAllConnections()
    if (server) await new Promise((resolve) => server.close(resolve))
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
}

const roomIndex = (room: string): number => Number(room.slice('room-'.length))

async function main(): Promise<void> {
  const dirs: string[] = []
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'tandem-bench-integrations-'))
    dirs.push(d)
    return d
  }
  const children: ChildProcess[] = []
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL')
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  // 0. Baseline: the same load, nobody listening, no webhooks.
  const base = await startRelay(tempDir(), [])
  children.push(base.child)
  const baseWriters = new Writers(base.url)
  await baseWriters.load(2, false)
  const baseCpu0 = cpuSeconds(base.child.pid!)
  const baseUpdates0 = baseWriters.updates
  const baseEvents0 = await metric(base.url, 'tandem_feed_events_total')
  await baseWriters.load(SECONDS, false)
  const baseCpu = cpuSeconds(base.child.pid!) - baseCpu0
  const baseEvents = (await metric(base.url, 'tandem_feed_events_total')) - baseEvents0
  const baseUpdates = baseWriters.updates - baseUpdates0
  base.child.kill('SIGTERM')

  // 1. Latency and CPU with a feed consumer and a webhook.
  let writers: Writers | null = null
  const feedLatency: number[] = []
  const hookLatency: number[] = []
  let feedEvents = 0
  let hookMessages = 0
  const receiver = new Receiver((body, at) => {
    hookMessages++
    if (body.type === 'room.changed' && writers) hookLatency.push(...writers.resolve(writers.hookPending, roomIndex(body.data.room), body.data.stateVector, at))
  })
  await receiver.up()
  const relay = await startRelay(tempDir(), ['--webhook', `http://127.0.0.1:${receiver.port}/hook`, '--webhook-secret', SECRET, '--webhook-debounce-ms', String(DEBOUNCE), '--webhook-retry-max-ms', '2000'])
  children.push(relay.child)
  writers = new Writers(relay.url)
  const feed = await consume(relay.url, (data, at) => {
    feedEvents++
    feedLatency.push(...writers!.resolve(writers!.feedPending, roomIndex(data.room), data.stateVector, at))
  })
  await writers.load(2, false) // warm-up (rooms created, JIT)
  const events0 = feedEvents
  const cpu0 = cpuSeconds(relay.child.pid!)
  const updates0 = writers.updates
  await writers.load(SECONDS, true)
  const cpu = cpuSeconds(relay.child.pid!) - cpu0
  const events = feedEvents - events0
  const updates = writers.updates - updates0
  const deadline = Date.now() + 30_000
  while (writers.hookPending.some((p) => p.length > 0) && Date.now() < deadline) await sleep(100)

  // 2. Outage: the receiver down, the rooms still changing; then back up.
  await receiver.down()
  const outbox: number[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      outbox.push(await metric(relay.url, 'tandem_webhook_outbox_messages'))
      await sleep(1000)
    }
  })()
  const outageUpdates0 = writers.updates
  await writers.load(OUTAGE_S, false)
  const outageUpdates = writers.updates - outageUpdates0
  const outboxAtEnd = await metric(relay.url, 'tandem_webhook_outbox_messages')
  const attempts = await metric(relay.url, 'tandem_webhook_deliveries_total{result="network-error"}')
  sampling = false
  await sampler
  const upAt = performance.now()
  await receiver.up()
  while ((await metric(relay.url, 'tandem_webhook_outbox_messages')) > 0 && performance.now() - upAt < 300_000) await sleep(100)
  const drainMs = performance.now() - upAt
  feed.abort()
  relay.child.kill('SIGTERM')
  await receiver.down()

  const result = {
    config: { rooms: ROOMS, ratePerRoom: RATE, seconds: SECONDS, outageSeconds: OUTAGE_S, debounceMs: DEBOUNCE },
    feed: { events, updates, latencyMs: { p50: pct(feedLatency, 50), p95: pct(feedLatency, 95), p99: pct(feedLatency, 99), max: pct(feedLatency, 100) }, missed: writers.feedPending.reduce((n, p) => n + p.length, 0) },
    webhooks: { messages: hookMessages, latencyMs: { p50: pct(hookLatency, 50), p99: pct(hookLatency, 99) } },
    cpu: {
      withFeedAndWebhook: { msPerUpdate: (cpu * 1000) / updates, msPerEvent: (cpu * 1000) / events },
      baseline: { msPerUpdate: (baseCpu * 1000) / baseUpdates, msPerEvent: (baseCpu * 1000) / Math.max(1, baseEvents) },
      /** What the consumer and the webhook add per feed event: (CPU with − CPU of the baseline's updates) / events. */
      consumerAndWebhookMsPerEvent: (cpu * 1000 - (baseCpu * 1000 * updates) / baseUpdates) / events,
    },
    outage: { updates: outageUpdates, outboxPeak: Math.max(...outbox, outboxAtEnd), outboxAtEnd, failedAttempts: attempts, drainMs },
  }
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '–')
  const rows: Array<[string, string]> = [
    ['load', `${ROOMS} rooms × ${RATE} updates/s for ${SECONDS} s (${updates} updates, HTTP)`],
    ['feed events (all-rooms consumer)', `${events} (${f(updates / Math.max(1, events), 2)} updates per event)`],
    ['feed latency accepted → event, p50 / p95 / p99', `${f(result.feed.latencyMs.p50)} / ${f(result.feed.latencyMs.p95)} / ${f(result.feed.latencyMs.p99)} ms`],
    [`webhook latency accepted → received (debounce ${DEBOUNCE} ms), p50 / p99`, `${f(result.webhooks.latencyMs.p50)} / ${f(result.webhooks.latencyMs.p99)} ms`],
    ['relay CPU per update / per event (feed + webhook)', `${f(result.cpu.withFeedAndWebhook.msPerUpdate, 3)} / ${f(result.cpu.withFeedAndWebhook.msPerEvent, 3)} ms`],
    ['relay CPU per update / per event (baseline: no consumer, no webhook)', `${f(result.cpu.baseline.msPerUpdate, 3)} / ${f(result.cpu.baseline.msPerEvent, 3)} ms`],
    ['CPU a consumer + a webhook add per event', `${f(result.cpu.consumerAndWebhookMsPerEvent, 3)} ms`],
    [`outbox during a ${OUTAGE_S} s receiver outage (${outageUpdates} updates)`, `peak ${result.outage.outboxPeak}, at the end ${outboxAtEnd} messages; ${attempts} failed attempts`],
    ['drain after the receiver is back', `${f(drainMs / 1000, 1)} s`],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  process.stdout.write(`\nbench:integrations\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`)
  mkdirSync(dirname(resolve(ROOT, JSON_PATH)), { recursive: true })
  writeFileSync(resolve(ROOT, JSON_PATH), JSON.stringify(result, null, 2) + '\n')
  process.stdout.write(`written ${JSON_PATH}\n`)
  process.exit(0)
}

await main()
