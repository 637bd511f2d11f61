/**
 * The one writer of the integrations store: everything added in one turn of the event loop (the
 * feed events of one flush of the rooms, their webhook records) goes into one atomic batch, one
 * fsync; batches are written one after another, so what is added first is durable first. A
 * callback given with the ops runs once they are durable (only then is an event published or a
 * webhook sent). A failed write is retried, with everything added meanwhile, until it succeeds.
 *
 * The journal also owns the sequence: one counter for feed events and outbox entries, stored
 * with every batch that used it, so a number is never handed out twice — not after a restart,
 * not after every event was pruned.
 *
 * @module
 */
import type { Logger } from 'pino'
import { SEP, type KvOp, type KvStore } from './store.ts'

const SEQ_KEY = `meta${SEP}seq`

/** Serial, grouped, durable writes to a {@link KvStore}. */
export class Journal {
  private ops: KvOp[] = []
  private callbacks: Array<() => void> = []
  private seq: number
  private seqDirty = false
  private scheduled = false
  private writing: Promise<void> = Promise.resolve()
  private failures = 0
  private closed = false
  /** Told when writes start failing (with the error) and when they recover (null). */
  onHealth: (error: unknown) => void = () => {}

  private constructor(
    private readonly store: KvStore,
    private readonly logger: Logger,
    seq: number,
  ) {
    this.seq = seq
  }

  /** Opens the journal on `store`, reading the stored sequence. */
  static async open(store: KvStore, logger: Logger): Promise<Journal> {
    const stored = await store.get(SEQ_KEY)
    return new Journal(store, logger, stored === undefined ? 0 : Number(stored))
  }

  /** The next sequence number (stored with the next batch). */
  next(): number {
    this.seqDirty = true
    return ++this.seq
  }

  /** The last number handed out. */
  get last(): number {
    return this.seq
  }

  /** Adds `ops` to the next batch; `then` runs once they are durable. False (nothing added, `then` never runs) once closed. */
  add(ops: KvOp[], then?: () => void): boolean {
    if (this.closed) return false
    for (const op of ops) this.ops.push(op)
    if (then) this.callbacks.push(then)
    if (this.scheduled) return true
    this.scheduled = true
    // After this turn: every room stored in one flush adds its event before the batch is cut.
    setImmediate(() => {
      this.scheduled = false
      this.writing = this.writing.then(() => this.writeBatch())
    })
    return true
  }

  /** Adds `ops` and resolves once they are durable (at once when closed). */
  commit(ops: KvOp[]): Promise<void> {
    return new Promise((resolve) => {
      if (!this.add(ops, resolve)) resolve()
    })
  }

  /** Resolves once everything added so far is durable (or the journal closed). */
  async flush(): Promise<void> {
    while (this.scheduled || this.ops.length > 0 || this.callbacks.length > 0) {
      if (this.closed) return
      if (!this.scheduled) this.writing = this.writing.then(() => this.writeBatch())
      await this.writing
      await new Promise((resolve) => setImmediate(resolve))
    }
    await this.writing
  }

  private async writeBatch(): Promise<void> {
    for (;;) {
      if (this.closed || (this.ops.length === 0 && this.callbacks.length === 0)) return
      const ops = this.ops
      const callbacks = this.callbacks
      this.ops = []
      this.callbacks = []
      if (this.seqDirty) {
        ops.push({ type: 'put', key: SEQ_KEY, value: String(this.seq) })
        this.seqDirty = false
      }
      try {
        await this.store.batch(ops)
      } catch (error) {
        // Kept, in order, ahead of what was added meanwhile; retried with backoff.
        this.ops = ops.concat(this.ops)
        this.callbacks = callbacks.concat(this.callbacks)
        this.failures++
        const retryMs = Math.min(5000, 100 * 2 ** Math.min(this.failures, 6))
        this.logger.error({ err: error, ops: ops.length, attempt: this.failures, retryMs }, 'integrations: writing the feed and outbox failed; retrying')
        this.onHealth(error)
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref())
        continue
      }
      if (this.failures > 0) {
        this.failures = 0
        this.logger.warn('integrations: writing the feed and outbox recovered')
        this.onHealth(null)
      }
      for (const callback of callbacks) {
        try {
          callback()
        } catch (error) {
          this.logger.error({ err: error }, 'integrations: a journal callback threw')
        }
      }
    }
  }

  /**
   * Writes what is pending (waiting at most `timeoutMs` for a failing store), then refuses
   * further writes. What a failing store did not take is lost with the process — and announced
   * after the next start from the rooms' crash marks, which stay.
   */
  async close(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
    this.closed = true
    if (this.failures === 0) await this.writing
  }
}
