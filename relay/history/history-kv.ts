/**
 * The key-value store under the history: records in buckets (a bucket holds one kind of
 * record of one room, keyed by a sortable string), written in atomic batches. Two adapters:
 * LevelDB (classic-level, its own directory, `<data>/history`) and memory (`--storage memory`).
 *
 * @module
 */
import { ClassicLevel } from 'classic-level'

/** One write of a batch: `value` null deletes the record. */
export interface KvOp {
  bucket: string
  key: string
  value: Uint8Array | null
}

/** What the history needs from a store. */
export interface HistoryKv {
  get(bucket: string, key: string): Promise<Uint8Array | undefined>
  /** The records of `bucket` with keys from `gte` to `lte` (inclusive; default all), sorted by key. */
  list(bucket: string, range?: { gte?: string; lte?: string }): Promise<Array<[string, Uint8Array]>>
  /** Writes every op or none (a crash midway leaves the store as before or as after). */
  write(ops: readonly KvOp[]): Promise<void>
  close(): Promise<void>
}

const SEP = '\u0000'
/** Bucket names end with SEP; the next string after every key of the bucket raises it to \u0001. */
const endOf = (bucket: string): string => `${bucket.slice(0, -1)}\u0001`

/** A bucket name: the record kind and the room (room names hold no control characters). */
export function bucketOf(kind: string, room: string): string {
  return `${kind}${SEP}${room}${SEP}`
}

/** classic-level hands out Buffers; callers get plain Uint8Arrays. */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** History records in a LevelDB directory of their own. */
export class LevelKv implements HistoryKv {
  private constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    private readonly sync: boolean,
  ) {}

  /** Opens (creating) the store at `location`; `sync`: every batch is fsynced. */
  static async open(location: string, sync: boolean): Promise<LevelKv> {
    const db = new ClassicLevel<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view', writeBufferSize: 1024 * 1024, cacheSize: 2 * 1024 * 1024 })
    await db.open({ createIfMissing: true })
    return new LevelKv(db, sync)
  }

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    const value = await this.db.get(bucket + key)
    return value === undefined ? undefined : plain(value)
  }

  async list(bucket: string, range: { gte?: string; lte?: string } = {}): Promise<Array<[string, Uint8Array]>> {
    const out: Array<[string, Uint8Array]> = []
    const options = range.lte === undefined ? { gte: bucket + (range.gte ?? ''), lt: endOf(bucket) } : { gte: bucket + (range.gte ?? ''), lte: bucket + range.lte }
    for await (const [key, value] of this.db.iterator(options)) out.push([key.slice(bucket.length), plain(value)])
    return out
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    if (ops.length === 0) return
    const batch = this.db.batch()
    for (const op of ops) {
      if (op.value) batch.put(op.bucket + op.key, op.value)
      else batch.del(op.bucket + op.key)
    }
    await batch.write({ sync: this.sync })
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** History records in memory (`--storage memory`): gone with the process. */
export class MemoryKv implements HistoryKv {
  private readonly buckets = new Map<string, Map<string, Uint8Array>>()

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    return this.buckets.get(bucket)?.get(key)
  }

  async list(bucket: string, range: { gte?: string; lte?: string } = {}): Promise<Array<[string, Uint8Array]>> {
    const records = this.buckets.get(bucket)
    if (!records) return []
    const { gte, lte } = range
    return [...records]
      .filter(([key]) => (gte === undefined || key >= gte) && (lte === undefined || key <= lte))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    for (const op of ops) {
      let records = this.buckets.get(op.bucket)
      if (op.value) {
        if (!records) this.buckets.set(op.bucket, (records = new Map()))
        records.set(op.key, op.value)
      } else if (records) {
        records.delete(op.key)
        if (records.size === 0) this.buckets.delete(op.bucket)
      }
    }
  }

  async close(): Promise<void> {}
}
