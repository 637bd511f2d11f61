/**
 * Who is live on the Redis, and the lease on a relay's `--id`. Every relay instance renews its
 * entry in the live set (catch-ups wait for the replies of the instances in it) and holds a
 * lease on its id: another live relay holding it (two relays given one `--id`) would overwrite
 * this one's read positions and let the stream be trimmed past what it read, so read positions
 * are then kept under the instance instead (a restart asks, forced).
 *
 * @module
 */
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisKeys } from './keys.ts'
import type { RedisMetrics } from './redis-metrics.ts'

export class IdLease {
  /** Names this relay's read positions: its `--id`, or its instance while another relay holds that id. */
  ackId: string
  private checked = false

  constructor(
    private readonly cmd: Redis,
    private readonly keys: RedisKeys,
    private readonly id: string,
    private readonly instance: string,
    /** How long the live entry and the id lease last without renewal, ms. */
    readonly leaseMs: number,
    private readonly metrics: RedisMetrics,
    private readonly logger: Logger,
  ) {
    this.ackId = id
  }

  /** Whether read positions are kept under the relay's `--id` (no other relay holds it). */
  get ownsId(): boolean {
    return this.ackId === this.id
  }

  /**
   * Renews the live entry and the id lease. At the first call, waits out a lease left by this
   * relay's previous life (killed: no one renews it). Resolves true when another live relay
   * holds the id (read positions move to the instance from now on: the caller forgets the ones
   * it recorded).
   */
  async hold(stopped: () => boolean): Promise<boolean> {
    const now = Date.now()
    await this.cmd.call('ZADD', this.keys.live, now + this.leaseMs, this.instance)
    await this.cmd.call('ZREMRANGEBYSCORE', this.keys.live, '-inf', now)
    if (!this.ownsId) return false
    const key = this.keys.idLease(this.id)
    const deadline = this.checked ? 0 : Date.now() + this.leaseMs + 500
    this.checked = true
    let holder: string | null
    for (;;) {
      const held = await this.cmd.call('SET', key, this.instance, 'NX', 'PX', this.leaseMs)
      holder = held === 'OK' ? this.instance : await this.cmd.call('GET', key) as string | null
      if (holder === null || holder === this.instance || Date.now() > deadline || stopped()) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    if (holder === null || holder === this.instance) {
      await this.cmd.call('PEXPIRE', key, this.leaseMs)
      return false
    }
    this.ackId = this.instance
    this.metrics.idConflict.set(1)
    this.logger.error({ id: this.id, holder }, 'another relay on this Redis uses this --id: give every relay a unique, stable --id; keeping read positions per process meanwhile')
    return true
  }

  /** At a graceful stop: gives the id back at once (a kill -9 waits out the lease). */
  async release(): Promise<void> {
    if (!this.ownsId) return
    await this.cmd.call('EVAL', "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1,
      this.keys.idLease(this.id), this.instance).catch(() => undefined)
  }

  /** The other relay instances whose lease on Redis is current. */
  async liveInstances(): Promise<string[]> {
    const all = await this.cmd.call('ZRANGEBYSCORE', this.keys.live, Date.now(), '+inf') as string[]
    return all.filter((i) => i !== this.instance)
  }
}
