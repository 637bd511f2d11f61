/**
 * One relay of the campaign as a real child process (`relay/cli.ts`) on a fixed port with a
 * real LevelDB directory, linked to peers (mesh, star, ring) or sharing rooms through Redis,
 * and the relay-level faults: kill -9, graceful stop, failing disk
 * writes (the `--fault-storage` file) and a copy of the data directory taken while it runs.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { cp, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createServer } from 'node:net'
import { LevelDbStorage } from '../../relay/storage/leveldb.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** How the relay is started: the TypeScript CLI under tsx, or the compiled one (`npm run build`). */
const RELAY_ENTRY = { tsx: ['--import', 'tsx', 'relay/cli.ts'], dist: ['dist/relay/cli.js'] } as const

/**
 * `n` free loopback ports below the ephemeral range (20000–29999), so a port released by a
 * killed relay is not handed to some other process's `listen(0)` before the restart.
 */
export async function relayPorts(n: number, random: () => number): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < n) {
    const port = 20000 + Math.floor(random() * 10000)
    if (ports.includes(port)) continue
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) ports.push(port)
  }
  return ports
}

/** What a relay process needs to start. */
export interface RelaySpec {
  id: string
  port: number
  dataDir: string
  /** Writes fail while this file exists. */
  faultFile: string
  logFile: string
  /** Peer links (no `redis`): the topology, star's hub, the peer URLs to dial and their secret. */
  topology: 'mesh' | 'star' | 'ring'
  hub?: string
  peers: string[]
  secret: string
  /** Redis mode: the `--redis` URL (no peer links then). */
  redis?: string
  /** `dist` runs dist/relay/cli.js (starts much faster on a loaded machine); default `tsx`. */
  entry?: 'tsx' | 'dist'
}

/** A relay process the campaign can kill, stop and start again on the same port and directory. */
export class RelayProcess {
  readonly spec: RelaySpec
  readonly httpUrl: string
  readonly url: string
  private child: ChildProcess | null = null
  private log: WriteStream
  private exited: Promise<void> = Promise.resolve()
  /** Starts so far (the first included). */
  starts = 0
  /** Exits nobody asked for (a crash): what the process left and when. */
  readonly crashes: Array<{ at: string; code: number | null; signal: string | null; start: number }> = []
  /** Called on an exit nobody asked for (the campaign records it and restarts the relay). */
  onCrash: ((crash: RelayProcess['crashes'][number]) => void) | null = null
  /** Set by kill9/stop/dispose: the next exit is ours. */
  private stopping = false

  constructor(spec: RelaySpec) {
    this.spec = spec
    this.httpUrl = `http://127.0.0.1:${spec.port}`
    this.url = `ws://127.0.0.1:${spec.port}`
    this.log = createWriteStream(spec.logFile, { flags: 'a' })
  }

  /** The running process's id (undefined when stopped). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== null
  }

  /** Starts the process and resolves once `GET /health` answers. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.child) return
    const s = this.spec
    const args = [...RELAY_ENTRY[s.entry ?? 'tsx'], '--host', '127.0.0.1', '--port', String(s.port), '--id', s.id,
      '--data', s.dataDir, '--fault-storage', s.faultFile, '--log-level', 'warn']
    const env: NodeJS.ProcessEnv = { ...process.env }
    if (s.redis) {
      args.push('--redis', s.redis)
    } else {
      args.push('--topology', s.topology)
      if (s.hub) args.push('--hub', s.hub)
      if (s.peers.length > 0) args.push('--peers', s.peers.join(','))
      env.TANDEM_PEER_SECRET = s.secret
    }
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.stopping = false
    this.starts++
    // Not left behind when the campaign's process ends without disposing (a test that timed out).
    const orphan = (): void => void child.kill('SIGKILL')
    process.once('exit', orphan)
    child.once('exit', () => process.off('exit', orphan))
    this.log.write(`--- start #${this.starts} pid ${child.pid} at ${new Date().toISOString()}\n`)
    child.stdout?.pipe(this.log, { end: false })
    child.stderr?.pipe(this.log, { end: false })
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.log.write(`--- exit code ${code} signal ${signal}\n`)
      if (this.child === child) {
        this.child = null
        if (!this.stopping) {
          const crash = { at: new Date().toISOString(), code, signal, start: this.starts }
          this.crashes.push(crash)
          this.onCrash?.(crash)
        }
      }
      resolve()
    }))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.child !== child) throw new Error(`relay ${s.id} exited during startup (see ${s.logFile})`)
      try {
        // A bounded request, and only our relay's answer counts (not whatever else holds the port).
        const res = await fetch(`${this.httpUrl}/health`, { signal: AbortSignal.timeout(2000) })
        const body = res.ok ? ((await res.json()) as { status?: string }) : {}
        if (body.status === 'ok' || body.status === 'degraded') return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        this.stopping = true
        child.kill('SIGKILL')
        throw new Error(`relay ${s.id} did not start within ${timeoutMs} ms (see ${s.logFile})`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** `kill -9`: resolves once the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child
    if (!child) return
    this.stopping = true
    child.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM (graceful: flush, close); kill -9 after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child
    if (!child) return
    this.stopping = true
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await this.exited
    clearTimeout(timer)
  }

  /** Makes storage writes fail (true) or work again (false); `lose`: a lying disk (negative control). */
  async setDiskFailing(failing: boolean, mode: 'fail' | 'lose' = 'fail'): Promise<void> {
    if (failing) await writeFile(this.spec.faultFile, mode === 'lose' ? 'lose' : '')
    else await unlink(this.spec.faultFile).catch(() => undefined)
  }

  /**
   * Copies the live data directory to `to` (as a backup tool copying under a running
   * process would). Retries when a file vanished mid-copy or the copy does not open.
   * Resolves false when no usable copy could be taken.
   */
  async copyData(to: string, attempts = 5): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      await rm(to, { recursive: true, force: true })
      try {
        await cp(this.spec.dataDir, to, { recursive: true })
        const check = await LevelDbStorage.open(to)
        await check.listRooms()
        await check.close()
        return true
      } catch {
        // compaction moved files under us; take it again
      }
    }
    await rm(to, { recursive: true, force: true })
    return false
  }

  /** Replaces the data directory with `from` (the relay must be stopped). */
  async restoreData(from: string): Promise<void> {
    if (this.child) throw new Error('restoreData on a running relay')
    await rm(this.spec.dataDir, { recursive: true, force: true })
    await rename(from, this.spec.dataDir)
  }

  /** Kills the process (if running) and closes the log. */
  async dispose(): Promise<void> {
    await this.kill9()
    await new Promise<void>((resolve) => this.log.end(resolve))
  }
}
