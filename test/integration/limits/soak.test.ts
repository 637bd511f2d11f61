import { describe, expect, it } from 'vitest'
import { runSoak } from '../../../crdt-bench/soak/soak.ts'

/**
 * The short version of `npm run bench:soak`, on fixed seeds so a failure reproduces
 * (`TANDEM_SOAK_SEED=N` runs one other seed; `npm run bench:soak` explores more).
 */
const SEEDS = process.env.TANDEM_SOAK_SEED ? [Number(process.env.TANDEM_SOAK_SEED)] : [1, 2]
/** Heap after the load (full GC, rooms unloaded) over heap before it. */
const MAX_HEAP_RATIO = 1.3

describe('soak (short)', () => {
  it.each(SEEDS)(`rooms open and close under random edits and bad frames: stored state equals clients', heap returns to baseline (seed %i)`, async (seed) => {
    const result = await runSoak({ rooms: 20, sessions: 200, concurrency: 20, seed })
    console.log(`soak: ${result.sessions} sessions (${result.badSessions} bad), ${result.edits} edits in ${result.seconds.toFixed(1)} s; heap ${result.heapBaselineMiB.toFixed(1)} -> peak ${result.heapPeakMiB.toFixed(1)} -> ${result.heapAfterMiB.toFixed(1)} MiB (ratio ${result.heapRatio.toFixed(2)})`)
    expect(result.mismatched).toEqual([])
    expect(result.roomsLoadedAfter).toBe(0)
    expect(result.connectionsAfter).toBe(0)
    expect(result.badSessions).toBeGreaterThan(0)
    expect(result.heapRatio).toBeLessThan(MAX_HEAP_RATIO)
  }, 120_000)
})
