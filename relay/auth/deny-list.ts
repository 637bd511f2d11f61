/**
 * The deny list: revoked token ids (`jti`), each kept until the token it names would have
 * expired anyway. Listeners hear of every addition at once, so the relay cuts live
 * connections holding a revoked token immediately. With a file (the relay uses
 * `<data>/auth-deny.json` when it stores on disk), the list survives restarts.
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises'

/** One revoked token. */
export interface DenyEntry {
  jti: string
  /** Seconds since the epoch after which the entry may be forgotten (the token's own `exp`). */
  until: number
}

/** Longest an entry without a known expiry is kept: 30 days. */
const DEFAULT_KEEP_SECONDS = 30 * 24 * 3600

/** Revoked token ids. */
export class DenyList {
  private readonly entries = new Map<string, number>()
  private readonly listeners = new Set<(jti: string) => void>()
  private readonly file: string | undefined
  private saving: Promise<void> = Promise.resolve()

  constructor(file?: string) {
    this.file = file
  }

  /** Loads the file if there is one (a missing file is an empty list). */
  async load(): Promise<void> {
    if (!this.file) return
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const list = JSON.parse(text) as DenyEntry[]
    for (const e of list) if (typeof e.jti === 'string' && typeof e.until === 'number') this.entries.set(e.jti, e.until)
    this.purge()
  }

  /** Whether `jti` is revoked. */
  has(jti: string | undefined): boolean {
    if (!jti) return false
    const until = this.entries.get(jti)
    return until !== undefined && until * 1000 > Date.now()
  }

  /** Revokes `jti` until `until` (default: 30 days) and tells the listeners. */
  async add(jti: string, until?: number): Promise<DenyEntry> {
    const entry = { jti, until: until ?? Math.floor(Date.now() / 1000) + DEFAULT_KEEP_SECONDS }
    this.entries.set(jti, entry.until)
    for (const listener of this.listeners) listener(jti)
    await this.save()
    return entry
  }

  /** Lifts a revocation; true if there was one. */
  async remove(jti: string): Promise<boolean> {
    const had = this.entries.delete(jti)
    if (had) await this.save()
    return had
  }

  /** Every live entry. */
  list(): DenyEntry[] {
    this.purge()
    return [...this.entries].map(([jti, until]) => ({ jti, until }))
  }

  /** Calls `listener(jti)` on every revocation. */
  onRevoke(listener: (jti: string) => void): void {
    this.listeners.add(listener)
  }

  private purge(): void {
    const now = Date.now() / 1000
    for (const [jti, until] of this.entries) if (until <= now) this.entries.delete(jti)
  }

  private save(): Promise<void> {
    const file = this.file
    if (!file) return Promise.resolve()
    this.saving = this.saving.then(async () => {
      const tmp = `${file}.tmp`
      await writeFile(tmp, JSON.stringify(this.list()))
      await rename(tmp, file)
    })
    return this.saving
  }
}
