/**
 * A small JSON record beside the relay's data (the peer links' dirty rooms and delete
 * fingerprints, the Redis edge's unpublished rooms and lineage), replaced whole by write-then-
 * rename so a crash never leaves it torn: it reads as the last complete write or as absent.
 * Without a file (memory storage) nothing is read or written.
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'

export class RecordFile<T> {
  private lazy: NodeJS.Timeout | null = null

  /** `what` names the record in log lines ("dirty-room record"). */
  constructor(readonly file: string | undefined, private readonly logger: Logger, private readonly what: string) {}

  /**
   * The record as last written: undefined when there is no file yet (first start) or it does
   * not parse — never torn, so unparseable means edited by hand: logged, and the caller starts
   * empty.
   */
  read(): T | undefined {
    if (!this.file) return undefined
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch {
      return undefined
    }
    try {
      return JSON.parse(text) as T
    } catch (err) {
      this.logger.warn({ err, file: this.file }, `${this.what} unreadable; starting empty`)
      return undefined
    }
  }

  /** Writes `value` now, before returning (and cancels a pending {@link writeSoon}); false when the write failed (logged). */
  write(value: T): boolean {
    this.cancelSoon()
    if (!this.file) return true
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(value))
      renameSync(`${this.file}.tmp`, this.file)
      return true
    } catch (err) {
      this.logger.error({ err, file: this.file }, `writing the ${this.what} failed`)
      return false
    }
  }

  /**
   * Writes what `value()` returns then within `delayMs`, once however often it is asked: for
   * changes that only cost a little extra work if a crash loses them (a removal).
   */
  writeSoon(value: () => T, delayMs = 200): void {
    if (!this.file || this.lazy) return
    this.lazy = setTimeout(() => {
      this.lazy = null
      this.write(value())
    }, delayMs)
    this.lazy.unref()
  }

  private cancelSoon(): void {
    if (!this.lazy) return
    clearTimeout(this.lazy)
    this.lazy = null
  }
}
