import { describe, expect, it } from 'vitest'
import { runSoak } from '../../../crdt-bench/soak/soak.ts'

/** The short version of `npm run bench:soak`. */
const SEED = Number(process.env.TANDEM_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31))
/** Heap after the load (full GC, rooms unloaded) over heap before it. */
const MAX_HEAP_RATIO = 1.3

describe('soak (short)', () => {
  it(`rooms open and close under random edits and bad frames: stored state equals clients', heap returns to baseline (seed ${SEED})`, async () => {
    console.log(`soak seed ${SEED} (rerun with TANDEM_SOAK_SEED=${SEED})`)
    const result = await runSoak({ rooms: 20, sessions: 200, concurrency: 20, seed: SEED })
    console.log(`soak: ${result.sessions} sessions (${result.badSessions} bad), ${result.edits} edits in ${result.seconds.toFixed(1)} s; heap ${result.heapBaselineMiB.toFixed(1)} -> peak ${result.heapPeakMiB.toFixed(1)} -> ${result.heapAfterMiB.toFixed(1)} MiB (ratio ${result.heapRatio.toFixed(2)})`)
    expect(result.mismatched).toEqual([])
    expect(result.roomsLoadedAfter).toBe(0)
    expect(result.connectionsAfter).toBe(0)
    expect(result.badSessions).toBeGreaterThan(0)
    expect(result.heapRatio).toBeLessThan(MAX_HEAP_RATIO)
  }, 120_000)
})
