/**
 * The campaign's one real `redis-server` (Redis mode): a child process on a fixed loopback
 * port with persistence into the run directory — RDB snapshots or an AOF, chosen by the seed —
 * and the Redis-level faults: kill -9 and restart from what it persisted, restart empty,
 * restart from an older copy of its own RDB/AOF, and `maxmemory` with `noeviction` so it
 * refuses writes for a while.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, type WriteStream } from 'node:fs'
import { cp, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** How Redis persists: RDB snapshots (`save 2 1`), or an append-only file fsynced every second. */
export type RedisPersistence = 'rdb' | 'aof'

/** The redis-server binary: $REDIS_SERVER, /usr/bin/redis-server, or the one on PATH. */
export function redisServerBinary(): string {
  for (const p of [process.env.REDIS_SERVER, '/usr/bin/redis-server']) if (p && existsSync(p)) return p
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim()
  throw new Error('redis-server not found: install the redis-server package or set REDIS_SERVER')
}

/** What a {@link RedisServerProcess} needs. */
export interface RedisServerSpec {
  port: number
  /** Redis's working directory (its RDB file or AOF directory live here). */
  dir: string
  persistence: RedisPersistence
  logFile: string
}

const RDB = 'dump.rdb'
const AOF_DIR = 'appendonlydir'

/** The campaign's redis-server. */
export class RedisServerProcess {
  readonly spec: RedisServerSpec
  readonly url: string
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()
  private readonly log: WriteStream
  /** Starts so far (the first included). */
  starts = 0
  /** Called when redis-server exits without being killed (the campaign records it). */
  onCrash: ((code: number | null, signal: string | null) => void) | null = null
  private stopping = false

  constructor(spec: RedisServerSpec) {
    this.spec = spec
    this.url = `redis://127.0.0.1:${spec.port}`
    this.log = createWriteStream(spec.logFile, { flags: 'a' })
  }

  get running(): boolean {
    return this.child !== null
  }

  /** Starts redis-server on its port and directory (loading what is persisted there); resolves once it answers PING. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.child) return
    const s = this.spec
    await mkdir(s.dir, { recursive: true })
    const persistence = s.persistence === 'rdb'
      ? ['--save', '2 1', '--appendonly', 'no', '--dbfilename', RDB]
      // No automatic rewrite: the AOF's files stay put while the campaign copies them.
      : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--appenddirname', AOF_DIR, '--auto-aof-rewrite-percentage', '0', '--aof-load-truncated', 'yes']
    const args = ['--port', String(s.port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', s.dir, ...persistence,
      '--maxmemory', '0', '--maxmemory-policy', 'noeviction']
    const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
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
        if (!this.stopping) this.onCrash?.(code, signal)
      }
      resolve()
    }))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (this.child !== child) throw new Error(`redis-server exited during startup (see ${s.logFile})`)
      // Loading a dump answers -LOADING: up only once PING says PONG.
      if (await this.command(['PING']).then((r) => r === 'PONG', () => false)) return
      if (Date.now() > deadline) {
        this.stopping = true
        child.kill('SIGKILL')
        throw new Error(`redis-server did not answer within ${timeoutMs} ms (see ${s.logFile})`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** kill -9; resolves once the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child
    if (!child) return
    this.stopping = true
    child.kill('SIGKILL')
    await this.exited
  }

  /** Runs one command on a short-lived connection (bounded: 3 s). */
  async command(args: Array<string | number>): Promise<unknown> {
    const r = new Redis({ host: '127.0.0.1', port: this.spec.port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, commandTimeout: 3000 })
    r.on('error', () => undefined)
    try {
      await r.connect()
      return await r.call(String(args[0]), ...args.slice(1))
    } finally {
      r.disconnect()
    }
  }

  /** Deletes what Redis persisted (the server must be stopped): the next start is empty. */
  async wipe(): Promise<void> {
    if (this.child) throw new Error('wipe on a running redis-server')
    await rm(join(this.spec.dir, RDB), { force: true })
    await rm(join(this.spec.dir, AOF_DIR), { recursive: true, force: true })
  }

  /**
   * Copies what Redis persisted to `to`, as a backup job would: RDB mode forces a snapshot
   * (BGSAVE) and copies it once written; AOF mode copies the append-only directory as it is
   * (fsynced within a second; a torn last command is dropped on load). Resolves a description.
   */
  async copyPersisted(to: string): Promise<string> {
    await rm(to, { recursive: true, force: true })
    await mkdir(to, { recursive: true })
    if (this.spec.persistence === 'rdb') {
      const before = await this.persistenceInfo()
      await this.command(['BGSAVE']).catch((err: Error) => {
        // An automatic snapshot already running is as good a backup.
        if (!/in progress/i.test(err.message)) throw err
      })
      const deadline = Date.now() + 10_000
      for (;;) {
        const now = await this.persistenceInfo()
        if (now.saves > before.saves && !now.inProgress) break
        if (Date.now() > deadline) throw new Error('BGSAVE did not finish within 10 s')
        await new Promise((r) => setTimeout(r, 50))
      }
      await cp(join(this.spec.dir, RDB), join(to, RDB))
      return 'RDB snapshot'
    }
    await cp(join(this.spec.dir, AOF_DIR), join(to, AOF_DIR), { recursive: true })
    return 'AOF copy'
  }

  private async persistenceInfo(): Promise<{ saves: number; inProgress: boolean }> {
    const info = String(await this.command(['INFO', 'persistence']))
    return { saves: Number(/rdb_saves:(\d+)/.exec(info)?.[1] ?? 0), inProgress: /rdb_bgsave_in_progress:1/.test(info) }
  }

  /** Replaces what Redis persisted with the copy in `from` (the server must be stopped). */
  async restorePersisted(from: string): Promise<void> {
    await this.wipe()
    await cp(from, this.spec.dir, { recursive: true })
    await rm(from, { recursive: true, force: true })
  }

  /** `maxmemory` at 1 byte with `noeviction` (every write refused with OOM), or back to unlimited. */
  async setRefusingWrites(refusing: boolean): Promise<void> {
    await this.command(['CONFIG', 'SET', 'maxmemory', refusing ? '1' : '0'])
  }

  async dispose(): Promise<void> {
    await this.kill9()
    await new Promise<void>((resolve) => this.log.end(resolve))
  }
}
