/**
 * A storage wrapper whose writes fail on demand, for tests and the fault campaign: while
 * `failing` is set (or while the file `whileFileExists` exists, so another process can
 * switch it), `append` and `compact` reject without touching the wrapped store. Reads pass
 * through. Enabled in a relay process with the testing flag `--fault-storage FILE`.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import type { StorageAdapter } from './types.ts'

/** The error a refused write rejects with (what a full or failing disk looks like). */
export class InjectedStorageFault extends Error {
  readonly code = 'ENOSPC'
  constructor(op: string) {
    super(`injected storage fault: ${op} refused`)
    this.name = 'InjectedStorageFault'
  }
}

/** Options of {@link FailingStorage}. */
export interface FailingStorageOptions {
  /** Writes fail while this file exists (checked on every write). */
  whileFileExists?: string | undefined
}

/** Wraps a {@link StorageAdapter}; writes fail while {@link FailingStorage.failing} is true or the fault file exists. */
export class FailingStorage implements StorageAdapter {
  /** Set to make every write fail until cleared. */
  failing = false
  /** Writes refused so far. */
  refused = 0
  /** When each write was refused (`Date.now()`), for backoff checks. */
  readonly refusedAt: number[] = []
  private readonly inner: StorageAdapter
  private readonly file: string | undefined

  constructor(inner: StorageAdapter, options: FailingStorageOptions = {}) {
    this.inner = inner
    this.file = options.whileFileExists
  }

  /** Whether writes fail right now. */
  get faulty(): boolean {
    return this.failing || (this.file !== undefined && existsSync(this.file))
  }

  private refuse(op: string): void {
    if (!this.faulty) return
    this.refused++
    this.refusedAt.push(Date.now())
    throw new InjectedStorageFault(op)
  }

  load(room: string): Promise<Uint8Array[]> {
    return this.inner.load(room)
  }

  async append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void> {
    this.refuse('append')
    await this.inner.append(room, updates, stateVector)
  }

  getStateVector(room: string): Promise<Uint8Array | null> {
    return this.inner.getStateVector(room)
  }

  listRooms(): Promise<string[]> {
    return this.inner.listRooms()
  }

  async compact(room: string): Promise<void> {
    this.refuse('compact')
    await this.inner.compact(room)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
