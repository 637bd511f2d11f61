/**
 * Storage write failures as the relay reports them: the `storage` component of
 * {@link Health} turns degraded while any room's appends are failing (and ok again once every
 * such room stored its backlog), and `tandem_store_failing_rooms` / `tandem_unsaved_updates`
 * show how much is waiting. Rooms call {@link StorageHealth.failed} and
 * {@link StorageHealth.stored}; the retry itself lives in the room's flush path.
 *
 * @module
 */
import { Gauge, type Registry } from 'prom-client'
import type { Health } from '../observability/health.ts'

/** Retry delay after `failures` consecutive failed appends: doubling from `baseMs`, capped. */
export function retryDelayMs(failures: number, baseMs: number, capMs = 2000): number {
  const base = Math.max(baseMs, 20)
  return Math.min(capMs, base * 2 ** Math.max(0, failures - 1))
}

/** Tracks which rooms cannot store right now. */
export class StorageHealth {
  private readonly failing = new Map<string, { unsaved: number; error: string }>()
  private readonly failingRooms: Gauge
  private readonly unsaved: Gauge

  constructor(private readonly health: Health | undefined, registry: Registry) {
    // The component appears at the first failure (and stays, ok, after recovery).
    this.failingRooms = new Gauge({ name: 'tandem_store_failing_rooms', help: 'Rooms whose storage appends are failing (retried with backoff)', registers: [registry] })
    this.unsaved = new Gauge({ name: 'tandem_unsaved_updates', help: 'Accepted updates of failing rooms not yet stored', registers: [registry] })
  }

  /** `room` failed to store `unsaved` updates. */
  failed(room: string, unsaved: number, error: unknown): void {
    this.failing.set(room, { unsaved, error: error instanceof Error ? error.message : String(error) })
    this.report()
  }

  /** `room` stored everything it had queued. */
  stored(room: string): void {
    if (this.failing.delete(room)) this.report()
  }

  /** Rooms failing now. */
  get failingCount(): number {
    return this.failing.size
  }

  private report(): void {
    let unsaved = 0
    for (const f of this.failing.values()) unsaved += f.unsaved
    this.failingRooms.set(this.failing.size)
    this.unsaved.set(unsaved)
    const first = this.failing.values().next().value
    this.health?.set('storage', first
      ? { ok: false, detail: `appends failing for ${this.failing.size} room(s), ${unsaved} update(s) unsaved, retrying: ${first.error}` }
      : { ok: true })
  }
}
