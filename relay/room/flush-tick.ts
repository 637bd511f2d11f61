/**
 * One timer for the next flush of every room with unsaved updates, instead of one per room.
 * It fires on the next multiple of `flushMs`, so every due room flushes in the same turn of
 * the event loop and the store writes their appends as one group (one fsync).
 *
 * @module
 */

/** A room that has updates to store. */
export interface FlushDue {
  /** Called once per {@link FlushTick.add}, on the tick. */
  flushDue(): void
}

/** The shared flush timer of a relay's rooms. */
export class FlushTick {
  private due = new Set<FlushDue>()
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly flushMs: number) {}

  /** `room` flushes on the next tick. */
  add(room: FlushDue): void {
    this.due.add(room)
    if (this.timer) return
    const { flushMs } = this
    this.timer = setTimeout(this.run, flushMs > 0 ? flushMs - (Date.now() % flushMs) : 0)
    this.timer.unref()
  }

  /** `room` no longer flushes on the next tick (it flushed by itself, or is gone). */
  delete(room: FlushDue): void {
    this.due.delete(room)
  }

  private readonly run = (): void => {
    this.timer = null
    const due = this.due
    this.due = new Set()
    for (const room of due) room.flushDue()
  }
}
