/**
 * Where the change feed and the webhook outbox keep their records: a small ordered key-value
 * store of UTF-8 strings, on LevelDB (classic-level, `<data>/integrations`) or in memory
 * (`--storage memory`, or a relay given its own storage adapter). Writes go through the
 * {@link Journal}, one atomic batch at a time.
 *
 * @module
 */
import { ClassicLevel } from 'classic-level'

/** One write of a batch. */
export type KvOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/** A key range: `gt` or `gte` below, `lt` above (exclusive). */
export interface KvRange {
  gt?: string
  gte?: string
  lt: string
  limit?: number
  reverse?: boolean
}

/** The ordered store the integrations use. */
export interface KvStore {
  /** Writes `ops` atomically (fsynced when the store was opened with `sync`). */
  batch(ops: KvOp[]): Promise<void>
  get(key: string): Promise<string | undefined>
  /** Entries with keys in the range, in key order (reversed with `reverse`), at most `limit`. */
  range(range: KvRange): Promise<Array<[string, string]>>
  close(): Promise<void>
}

export const SEP = '\u0000'

/** The key range of every key starting with `prefix` (ending with SEP): bounded by the SEP raised to \u0001, as in storage/leveldb.ts. */
export const under = (prefix: string): { gte: string; lt: string } => ({ gte: prefix, lt: `${prefix.slice(0, -1)}\u0001` })

/** A sequence number as 16 hex digits (keys sort in number order). */
export const seqKey = (seq: number): string => seq.toString(16).padStart(16, '0')

/** classic-level under `dir` (created if missing). */
export async function openLevelStore(dir: string, sync: boolean): Promise<KvStore> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', writeBufferSize: 1024 * 1024, cacheSize: 1024 * 1024 })
  await db.open()
  return {
    batch: (ops) => db.batch(ops, { sync }),
    get: async (key) => (await db.get(key)) ?? undefined,
    range: async (range) => {
      const entries: Array<[string, string]> = []
      for await (const entry of db.iterator({ ...range, limit: range.limit ?? -1 })) entries.push(entry)
      return entries
    },
    close: () => db.close(),
  }
}

/** Keys compare as LevelDB compares them: UTF-8 bytes (not UTF-16 code units). */
function compareKeys(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** An in-memory store with the same ordering (nothing survives the process). */
export class MemoryKvStore implements KvStore {
  private readonly values = new Map<string, string>()
  /** Every key, sorted. Keys mostly arrive in order (sequence numbers), so inserts land near the end. */
  private readonly keys: string[] = []

  private indexOf(key: string): number {
    let lo = 0
    let hi = this.keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareKeys(this.keys[mid]!, key) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  batch(ops: KvOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') {
        if (!this.values.has(op.key)) this.keys.splice(this.indexOf(op.key), 0, op.key)
        this.values.set(op.key, op.value)
      } else if (this.values.delete(op.key)) {
        this.keys.splice(this.indexOf(op.key), 1)
      }
    }
    return Promise.resolve()
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(key))
  }

  range(range: KvRange): Promise<Array<[string, string]>> {
    const start = range.gt !== undefined ? this.indexOf(range.gt) + (this.values.has(range.gt) ? 1 : 0) : this.indexOf(range.gte ?? '')
    const end = this.indexOf(range.lt)
    const limit = range.limit ?? Infinity
    const out: Array<[string, string]> = []
    if (range.reverse) {
      for (let i = end - 1; i >= start && out.length < limit; i--) out.push([this.keys[i]!, this.values.get(this.keys[i]!)!])
    } else {
      for (let i = start; i < end && out.length < limit; i++) out.push([this.keys[i]!, this.values.get(this.keys[i]!)!])
    }
    return Promise.resolve(out)
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
