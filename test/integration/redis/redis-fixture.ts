/**
 * Test fixtures for the Redis edge: a real redis-server on a free loopback port (no
 * persistence, like Debian's default for a restart: it comes back empty), relays in-process
 * or as child processes with `--redis`, and small readers for /health and /metrics.
 *
 * A missing redis-server FAILS the suite (never skips): CI installs Debian's package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRelay, type Relay } from '../../../relay/server/server.ts'
import { createLogger } from '../../../relay/observability/logger.ts'
import type { RelayConfig } from '../../../relay/config/config.ts'
import { redisExtension, type RedisExtension } from '../../../relay/redis/index.ts'
import { freePorts, until, wsUrl, type Client } from '../topology/cluster.ts'

export { client, freePorts, keysOf, metric, relayDoc, synced, until, type Client } from '../topology/cluster.ts'

/** The redis-server binary: $REDIS_SERVER, /usr/bin/redis-server, or the one on PATH. */
export function redisServerPath(): string {
  const candidates = [process.env.REDIS_SERVER, '/usr/bin/redis-server'].filter((p): p is string => !!p)
  for (const p of candidates) if (existsSync(p)) return p
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const found = which.stdout.trim()
  if (which.status === 0 && found) return found
  throw new Error('redis-server not found: install Debian\'s redis-server package (.ci/run does) or set REDIS_SERVER')
}

/** True once redis-server answers PING (a password-protected one answers NOAUTH: up too). */
async function pingable(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    // Only "is it up": the tests verify the certificate through the relay, not here.
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1')
    let buf = ''
    socket.on(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      buf += d.toString()
      if (buf.includes('\r\n')) {
        socket.destroy()
        resolve(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'))
      }
    })
    socket.on('error', () => resolve(false))
  })
}

/** A redis-server child process. */
export interface RedisServer {
  port: number
  url: string
  /** Stops it (SIGKILL: its contents are gone, nothing is saved) and waits for the exit. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  start(): Promise<void>
}

/** TLS files of a redis-server (see test-certs.ts). */
export interface RedisTlsFiles {
  cert: string
  key: string
  ca: string
}

/** What {@link startRedis} takes beside the port. */
export interface RedisStartOptions {
  port?: number
  /** Extra redis-server arguments, e.g. `['--requirepass', 'pw']` or `['--user', 'alice', 'on', '>pw', '~*', '&*', '+@all']`. */
  args?: string[]
  /** Serve TLS only (`--tls-port`, plain port 0, no client certificates); the url is then `rediss://`. */
  tls?: RedisTlsFiles
}

export async function startRedis(portOrOptions?: number | RedisStartOptions): Promise<RedisServer> {
  const o: RedisStartOptions = typeof portOrOptions === 'number' ? { port: portOrOptions } : portOrOptions ?? {}
  const bin = redisServerPath()
  const p = o.port ?? (await freePorts(1))[0] as number
  const listen = o.tls
    ? ['--port', '0', '--tls-port', String(p), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key, '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(p)]
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()
  const server: RedisServer = {
    port: p,
    url: `${o.tls ? 'rediss' : 'redis'}://127.0.0.1:${p}`,
    async start() {
      let out = ''
      const c = spawn(bin, [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...o.args ?? []], { stdio: ['ignore', 'pipe', 'pipe'] })
      child = c
      c.stdout?.on('data', (d: Buffer) => { out += d.toString() })
      c.stderr?.on('data', (d: Buffer) => { out += d.toString() })
      exited = new Promise((r) => c.once('exit', () => r()))
      await until(`redis-server on ${p}`, async () => {
        if (c.exitCode !== null) throw new Error(`redis-server exited: ${out}`)
        return pingable(p, o.tls !== undefined)
      }, 10_000)
    },
    async stop() {
      if (!child || child.exitCode !== null) return
      child.kill('SIGKILL')
      await exited
      child = null
    },
  }
  await server.start()
  return server
}

/** A port nothing listens on (reserved, then released). */
export async function deadPort(): Promise<number> {
  return (await freePorts(1))[0] as number
}

/** An in-process relay with the Redis extension and real LevelDB in a temp dir. */
export interface RedisMember {
  id: string
  url: string
  httpUrl: string
  dataDir: string
  relay: Relay
  ext: RedisExtension
  stop(wipe?: boolean): Promise<void>
}

/** Every line a relay logged, for tests that read its logs ({@link startRedisMember}'s `logs`). */
export class LogLines {
  readonly lines: string[] = []
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString().split('\n').filter((l) => l !== ''))
      done()
    },
  })

  /** The lines whose JSON `msg` contains `text`. */
  withMessage(text: string): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes(text))
  }

  text(): string {
    return this.lines.join('\n')
  }
}

export async function startRedisMember(o: {
  id: string
  redisUrl: string
  dataDir?: string
  idleMs?: number
  port?: number
  /** CA (PEM) for a `rediss://` Redis. */
  ca?: Buffer
  /** Relay settings beside the fixture's (e.g. `authSecret`). */
  config?: Partial<RelayConfig>
  /** Collect the relay's logs (level info) here instead of discarding them. */
  logs?: LogLines
}): Promise<RedisMember> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), `tandem-redis-${o.id}-`))
  const ext = redisExtension({ url: o.redisUrl, id: o.id, backoff: { initialMs: 50, maxMs: 300 }, checkpointMs: 200, ...(o.ca ? { ca: o.ca } : {}) })
  const relay = await createRelay(
    { host: '127.0.0.1', port: o.port ?? 0, data: dataDir, logLevel: o.logs ? 'info' : 'silent', id: o.id, idleMs: o.idleMs ?? 30_000, ...o.config },
    { extensions: [ext], ...(o.logs ? { logger: createLogger('info', o.logs.stream, { format: 'json' }) } : {}) },
  )
  return {
    id: o.id, url: relay.url, httpUrl: relay.httpUrl, dataDir, relay, ext,
    async stop(wipe = true) {
      await relay.close()
      if (wipe) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A relay child process (`relay/cli.ts --redis`), for kill -9. */
export interface RedisProc {
  id: string
  port: number
  url: string
  httpUrl: string
  dataDir: string
  output(): string
  kill(signal: NodeJS.Signals): void
  exited: Promise<number | null>
}

export async function spawnRedisMember(o: { id: string; redisUrl: string; port: number; dataDir?: string; args?: string[] }): Promise<RedisProc> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), `tandem-redis-${o.id}-`))
  const args = ['--import', 'tsx', 'relay/cli.ts', '--host', '127.0.0.1', '--port', String(o.port), '--id', o.id,
    '--data', dataDir, '--redis', o.redisUrl, '--log-level', 'info', ...o.args ?? []]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const httpUrl = `http://127.0.0.1:${o.port}`
  await until(`relay ${o.id} listening`, async () => {
    if (child.exitCode !== null) throw new Error(`relay ${o.id} exited: ${out}`)
    try {
      return (await fetch(`${httpUrl}/health`)).ok
    } catch {
      return false
    }
  }, 60_000) // tsx compiles the relay at start: slow on a busy 2-core machine
  return { id: o.id, port: o.port, url: wsUrl(o.port), httpUrl, dataDir, output: () => out, exited, kill: (s) => { child.kill(s) } }
}

/** `GET /health` as JSON. */
export async function health(httpUrl: string): Promise<{ ok: boolean; status: string; components: Record<string, { ok: boolean; detail?: string }> }> {
  return (await fetch(`${httpUrl}/health`)).json() as never
}

/** Resolves once the relay reports Redis connected and caught up. */
export async function redisUp(httpUrl: string, timeoutMs = 15_000): Promise<void> {
  await until(`${httpUrl} redis up`, async () => (await health(httpUrl)).components.redis?.ok === true, timeoutMs)
}

/** What a test started, torn down in reverse by {@link Scene.teardown} (in `afterEach`). */
export class Scene {
  redis: RedisServer | null = null
  members: RedisMember[] = []
  procs: RedisProc[] = []
  clients: Client[] = []
  closers: Array<{ close(): void }> = []

  async teardown(): Promise<void> {
    for (const c of this.clients) c.destroy()
    for (const c of this.closers) c.close()
    for (const m of this.members) await m.stop()
    for (const p of this.procs) {
      p.kill('SIGKILL')
      await p.exited
    }
    await this.redis?.stop()
    this.redis = null
    this.members = []
    this.procs = []
    this.clients = []
    this.closers = []
  }
}
