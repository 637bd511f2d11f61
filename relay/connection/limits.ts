/**
 * Per-connection rate limits (token buckets). The per-IP limits (open connections, distinct
 * rooms opened per minute) are part of admission: auth/ip-limits.ts.
 *
 * A connection over its message, byte or awareness rate is first slowed down: the relay stops
 * reading its socket (TCP backpressure) until the budget refills, so it can never take more
 * than its share of the relay. A connection that is still being held back after
 * `rateLimitGraceMs` without a one-second break is a flood, and is closed (4429). A bulk
 * importer therefore gets through at the budget's pace; a flood that never stops is cut off.
 *
 * @module
 */

/** A token bucket: `rate` per second, holding at most `capacity`; may go into debt. */
export class TokenBucket {
  private tokens: number
  private last: number
  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity
    this.last = now
  }

  /** Takes `cost`; returns how many ms to wait until the bucket is out of debt (0: within budget). */
  take(cost: number, now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    this.tokens -= cost
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000)
  }
}

/** Settings of {@link RateGate}. */
export interface RateGateOptions {
  messagesPerSecond: number
  bytesPerSecond: number
  awarenessPerSecond: number
  /** Burst for the byte bucket: at least one largest frame. */
  maxMessageBytes: number
  graceMs: number
}

/** Which limit held a connection back. */
export type RateLimitName = 'messages-per-second' | 'bytes-per-second' | 'awareness-per-second'

/** A frame over budget: wait this long before reading more; `cut`: held back past the grace. */
export interface RateHold {
  wait: number
  limit: RateLimitName
  cut: boolean
}

/** A connection's rate budget. */
export class RateGate {
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket
  private readonly awareness: TokenBucket
  private readonly graceMs: number
  private heldSince: number | null = null
  private heldUntil = 0

  constructor(options: RateGateOptions, now = Date.now()) {
    this.messages = new TokenBucket(options.messagesPerSecond, options.messagesPerSecond, now)
    this.bytes = new TokenBucket(options.bytesPerSecond, Math.max(options.bytesPerSecond, options.maxMessageBytes), now)
    this.awareness = new TokenBucket(options.awarenessPerSecond, options.awarenessPerSecond, now)
    this.graceMs = options.graceMs
  }

  /** Accounts one frame of `size` bytes (`isAwareness`: an awareness message); null when within budget. */
  check(size: number, isAwareness: boolean, now = Date.now()): RateHold | null {
    // Runs for every frame: no arrays, the longest wait wins.
    let wait = this.messages.take(1, now)
    let limit: RateLimitName = 'messages-per-second'
    const bytesWait = this.bytes.take(size, now)
    if (bytesWait > wait) {
      wait = bytesWait
      limit = 'bytes-per-second'
    }
    const awarenessWait = isAwareness ? this.awareness.take(1, now) : 0
    if (awarenessWait > wait) {
      wait = awarenessWait
      limit = 'awareness-per-second'
    }
    if (wait === 0) return null
    if (this.heldSince === null || now - this.heldUntil > 1000) this.heldSince = now
    this.heldUntil = Math.max(this.heldUntil, now + wait)
    return { wait, limit, cut: this.heldUntil - this.heldSince >= this.graceMs }
  }
}
