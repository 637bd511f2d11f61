/**
 * The discrete-event queue of the simulator: a binary min-heap ordered by simulated time, then
 * by insertion order, so two events at the same millisecond always run in the order they were
 * scheduled (this is what makes a run a pure function of its seed).
 */

interface Entry { readonly time: number, readonly seq: number, readonly run: () => void }

/** A min-heap of timed callbacks. */
export class EventQueue {
  private heap: Entry[] = []
  private seq = 0
  /** Simulated time of the event being run (ms). */
  now = 0

  /** Schedules `run` at simulated time `time` (never earlier than now). */
  at (time: number, run: () => void): void {
    const e: Entry = { time: Math.max(time, this.now), seq: this.seq++, run }
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  /** Number of pending events. */
  get size (): number { return this.heap.length }

  /** Runs events in order until none is left or `limit` ms is passed; returns events run. */
  run (limit = Infinity, maxEvents = 50_000_000): number {
    let n = 0
    while (this.heap.length > 0 && n < maxEvents) {
      const top = this.heap[0]!
      if (top.time > limit) break
      this.pop()
      this.now = top.time
      top.run()
      n++
    }
    if (n >= maxEvents) throw new Error(`simulation exceeded ${maxEvents} events`)
    return n
  }

  private pop (): void {
    const h = this.heap
    const last = h.pop()!
    if (h.length === 0) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1; const r = l + 1
      let m = i
      if (l < h.length && less(h[l]!, h[m]!)) m = l
      if (r < h.length && less(h[r]!, h[m]!)) m = r
      if (m === i) break
      ;[h[i], h[m]] = [h[m]!, h[i]!]
      i = m
    }
  }
}

function less (a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}
