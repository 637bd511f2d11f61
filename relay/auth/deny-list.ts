/**
 * The deny list: revoked token ids (`jti`), each kept until the token it names would have
 * expired anyway. Listeners hear of every change at once, so the relay cuts live
 * connections holding a revoked token immediately. With a file (the relay uses
 * `<data>/auth-deny.json` when it stores on disk), the list survives restarts.
 *
 * One list for the whole cluster: every entry carries the time of the decision (`at`), and a
 * lifted revocation stays as a tombstone (`lifted: true`) until its `until`, so two relays'
 * lists merge like a last-writer-wins map per `jti` (equal times: the revocation wins). Peer
 * links and the Redis edge carry {@link DenyList.entries} and apply what they receive with
 * {@link DenyList.merge}; `merge` returns only what changed, so flooding a change through a
 * cluster stops by itself.
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises'

/** One revoked token (or, with `lifted`, a revocation that was lifted). */
export interface DenyEntry {
  jti: string
  /** Seconds since the epoch after which the entry may be forgotten (the token's own `exp`). */
  until: number
  /** Milliseconds since the epoch of the decision: the later decision of two wins. */
  at: number
  /** The revocation was lifted (`DELETE /api/auth/deny/:jti`); kept so a merge does not bring it back. */
  lifted?: boolean
}

/** Who changed the list: `'local'` (this relay's API) or the replicating edge that merged it in. */
export type DenySource = 'local' | { edge: string; from?: string }

/** Longest an entry without a known expiry is kept: 30 days. */
const DEFAULT_KEEP_SECONDS = 30 * 24 * 3600
/** Longest jti accepted from a peer or Redis (a JWT id is short; bounds memory). */
export const MAX_JTI_BYTES = 256
/** Most entries the list holds; a merge past it keeps the live revocations first. */
export const MAX_DENY_ENTRIES = 100_000

/** True when `a` wins over `b` (the later decision; a revocation on equal times). */
function wins(a: DenyEntry, b: DenyEntry): boolean {
  if (a.at !== b.at) return a.at > b.at
  return !a.lifted && b.lifted === true
}

/** Whether `e` is a well-formed entry (from JSON, a peer frame or Redis). */
export function isDenyEntry(e: unknown): e is DenyEntry {
  if (typeof e !== 'object' || e === null) return false
  const x = e as Record<string, unknown>
  return typeof x.jti === 'string' && x.jti.length > 0 && Buffer.byteLength(x.jti) <= MAX_JTI_BYTES &&
    typeof x.until === 'number' && Number.isFinite(x.until) &&
    typeof x.at === 'number' && Number.isFinite(x.at) &&
    (x.lifted === undefined || typeof x.lifted === 'boolean')
}

/** Revoked token ids, mergeable across relays. */
export class DenyList {
  private readonly entries_ = new Map<string, DenyEntry>()
  private readonly revokeListeners = new Set<(jti: string) => void>()
  private readonly changeListeners = new Set<(changed: DenyEntry[], source: DenySource) => void>()
  private readonly file: string | undefined
  private saving: Promise<void> = Promise.resolve()
  private readonly now: () => number

  constructor(file?: string, now: () => number = Date.now) {
    this.file = file
    this.now = now
  }

  /** Loads the file if there is one (a missing file is an empty list; entries of the old format get `at: 0`). */
  async load(): Promise<void> {
    if (!this.file) return
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const list = JSON.parse(text) as unknown[]
    for (const raw of list) {
      const e = { at: 0, ...(raw as object) }
      if (isDenyEntry(e)) this.entries_.set(e.jti, e)
    }
    this.purge()
  }

  /** Whether `jti` is revoked. */
  has(jti: string | undefined): boolean {
    if (!jti) return false
    const e = this.entries_.get(jti)
    return e !== undefined && !e.lifted && e.until * 1000 > this.now()
  }

  /** Revokes `jti` until `until` (default: 30 days) and tells the listeners. */
  async add(jti: string, until?: number): Promise<DenyEntry> {
    const entry: DenyEntry = { jti, until: until ?? Math.floor(this.now() / 1000) + DEFAULT_KEEP_SECONDS, at: this.decisionTime(jti) }
    this.set(entry)
    this.emit([entry], 'local')
    await this.save()
    return entry
  }

  /** Lifts a revocation (a tombstone replaces it); true if there was one. */
  async remove(jti: string): Promise<boolean> {
    const e = this.entries_.get(jti)
    if (!e || e.lifted) return false
    const tombstone: DenyEntry = { jti, until: e.until, at: this.decisionTime(jti), lifted: true }
    this.set(tombstone)
    this.emit([tombstone], 'local')
    await this.save()
    return true
  }

  /**
   * Applies entries from another relay: each wins or loses against the one held (later `at`;
   * a revocation on a tie). Returns the entries that changed this list (and tells the
   * listeners, with `source`); expired and malformed entries are ignored.
   */
  async merge(incoming: readonly unknown[], source: DenySource): Promise<DenyEntry[]> {
    const changed: DenyEntry[] = []
    const nowSeconds = this.now() / 1000
    for (const e of incoming) {
      if (!isDenyEntry(e) || e.until <= nowSeconds) continue
      const held = this.entries_.get(e.jti)
      if (held && !wins(e, held)) continue
      if (!held && this.entries_.size >= MAX_DENY_ENTRIES && e.lifted) continue
      const entry: DenyEntry = { jti: e.jti, until: e.until, at: e.at, ...(e.lifted ? { lifted: true } : {}) }
      this.set(entry)
      changed.push(entry)
    }
    if (changed.length === 0) return changed
    this.emit(changed, source)
    await this.save()
    return changed
  }

  /** Every live revocation (what `GET /api/auth/deny` shows). */
  list(): DenyEntry[] {
    this.purge()
    return [...this.entries_.values()].filter((e) => !e.lifted)
  }

  /** Every entry, tombstones included: what a replicating edge sends to catch another relay up. */
  entries(): DenyEntry[] {
    this.purge()
    return [...this.entries_.values()]
  }

  /** Calls `listener(jti)` whenever a token becomes revoked (here or by a merge). */
  onRevoke(listener: (jti: string) => void): void {
    this.revokeListeners.add(listener)
  }

  /** Calls `listener(changed, source)` on every change (replicating edges send what they did not bring). */
  onChange(listener: (changed: DenyEntry[], source: DenySource) => void): () => void {
    this.changeListeners.add(listener)
    return () => this.changeListeners.delete(listener)
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.saving
  }

  /** A decision time later than the held entry's, so a decision made here always supersedes it. */
  private decisionTime(jti: string): number {
    return Math.max(this.now(), (this.entries_.get(jti)?.at ?? 0) + 1)
  }

  private set(entry: DenyEntry): void {
    this.entries_.set(entry.jti, entry)
    if (this.entries_.size > MAX_DENY_ENTRIES) this.evict()
  }

  /** Over the bound: drop tombstones first, then the revocations that end soonest. */
  private evict(): void {
    this.purge()
    const sorted = [...this.entries_.values()].sort((a, b) => Number(b.lifted ?? false) - Number(a.lifted ?? false) || a.until - b.until)
    for (const e of sorted) {
      if (this.entries_.size <= MAX_DENY_ENTRIES) break
      this.entries_.delete(e.jti)
    }
  }

  private emit(changed: DenyEntry[], source: DenySource): void {
    for (const e of changed) if (!e.lifted) for (const listener of this.revokeListeners) listener(e.jti)
    for (const listener of this.changeListeners) listener(changed, source)
  }

  private purge(): void {
    const now = this.now() / 1000
    for (const [jti, e] of this.entries_) if (e.until <= now) this.entries_.delete(jti)
  }

  private save(): Promise<void> {
    const file = this.file
    if (!file) return Promise.resolve()
    this.saving = this.saving.then(async () => {
      const tmp = `${file}.tmp`
      await writeFile(tmp, JSON.stringify(this.entries()))
      await rename(tmp, file)
    })
    return this.saving
  }
}
