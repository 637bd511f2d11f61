/**
 * What the Redis bridges of mergeable relay state have in common (the deny list,
 * `deny-bridge.ts`; the history's version marks, `version-bridge.ts`): each keeps its state in a
 * Redis hash written by a Lua script that keeps the later decision and publishes what it wrote on
 * a channel. This base class runs their life cycle:
 *
 * - subscribes to the channel whenever the pub/sub connection is ready, and syncs once subscribed
 *   and whenever the command connection is ready (a reconnect, a Redis found emptied);
 * - runs one sync at a time (a sync asked for while one runs runs again after it);
 * - retries a failed sync or write by a full sync a second later, while connected;
 * - hands what arrives on the channel to the subclass.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { redisError } from './redis-url.ts'

/** A failed write or sync is retried (by a full sync) this long after, while connected. */
const RETRY_MS = 1000

export interface MergeBridgeBase {
  /** The change channel. */
  channel: string
  /** The command connection (writes, reads) and the pub/sub one (subscribes). */
  cmd: Redis
  sub: Redis
  logger: Logger
}

export abstract class MergeBridge<O extends MergeBridgeBase> {
  private subscribed = false
  private syncing: Promise<void> | null = null
  private syncAgain = false
  private retryTimer: NodeJS.Timeout | null = null
  private stopped = false
  /** Stops listening to this relay's own changes (set by the subclass; called by {@link stop}). */
  protected offLocal: () => void = () => {}

  /** `what` names the state in log lines ("deny list", "version marks"). */
  constructor(
    protected readonly o: O,
    private readonly what: string,
  ) {
    const { cmd, sub, channel } = o
    sub.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.toString() === channel) void this.receive(message)
    })
    sub.on('ready', () => this.subscribe())
    sub.on('close', () => { this.subscribed = false })
    cmd.on('ready', () => this.sync())
  }

  /** Stops writing and merging (the connections are the node's to close). */
  stop(): void {
    this.stopped = true
    this.offLocal()
    if (this.retryTimer) clearTimeout(this.retryTimer)
  }

  /**
   * Reads what Redis holds newer and writes what this relay holds newer (also run when the node
   * finds Redis emptied without a reconnect). Runs again if asked while running.
   */
  sync(): void {
    if (this.stopped || !this.subscribed || this.o.cmd.status !== 'ready') return
    if (this.syncing) {
      this.syncAgain = true
      return
    }
    this.syncAgain = false
    this.syncing = this.syncOnce().catch((err: unknown) => {
      this.o.logger.warn({ err: redisError(err) }, `${this.what}: sync with Redis failed; retried`)
      this.retrySoon()
    }).finally(() => {
      this.syncing = null
      if (this.syncAgain) this.sync()
    })
  }

  /** Resolves once the sync running now (if any) is done: tests and shutdown wait on it. */
  async idle(): Promise<void> {
    while (this.syncing) await this.syncing
  }

  /** One full sync: read and merge what Redis holds newer, write what this relay holds newer. */
  protected abstract syncOnce(): Promise<void>
  /** A message on the channel. */
  protected abstract receive(message: Buffer): Promise<void>

  /** Runs `write` now, or leaves it to the sync on reconnect when Redis is away; a failure is logged and retried. */
  protected writeOrRetry(write: () => Promise<unknown>, context: Record<string, unknown> = {}): void {
    if (this.stopped || this.o.cmd.status !== 'ready') return // the sync on reconnect writes it
    write().catch((err: unknown) => {
      this.o.logger.warn({ err: redisError(err), ...context }, `${this.what}: write to Redis failed; retried`)
      this.retrySoon()
    })
  }

  private subscribe(): void {
    this.o.sub.subscribe(this.o.channel).then(
      () => {
        this.subscribed = true
        this.sync()
      },
      (err: unknown) => this.o.logger.debug({ err: redisError(err) }, `${this.what}: subscribe failed; retried on reconnect`),
    )
  }

  private retrySoon(): void {
    if (this.stopped || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.sync()
    }, RETRY_MS)
    this.retryTimer.unref()
  }
}
