/**
 * A short seeded fault campaign (the `npm run chaos` code): 3 relay processes, real LevelDB,
 * every fault kind injected at least once, then no acknowledged write lost, every live copy
 * and every disk equal. Seed printed; set TANDEM_CHAOS_SEED to replay another.
 */
import { describe, expect, it } from 'vitest'
import { runCampaign } from '../../../scripts/chaos/campaign.ts'
import { faultKindsFor } from '../../../scripts/chaos/faults.ts'

const SEED = Number(process.env.TANDEM_CHAOS_SEED ?? 1313)

describe('fault campaign', () => {
  it(`loses no acknowledged write (seed ${SEED})`, async () => {
    const lines: string[] = []
    const result = await runCampaign({
      seconds: 22, seed: SEED, relays: 3, redis: false, ensureEach: true, convergeTimeoutMs: 60_000,
      log: (line) => void lines.push(line),
    })
    const report = `seed ${SEED}: ${JSON.stringify({ ...result, events: undefined }, null, 1)}\n${lines.join('\n')}`
    expect(result.problems, report).toEqual([])
    expect(result.lost, report).toBe(0)
    expect(result.ok, report).toBe(true)
    expect(result.convergeMs, report).not.toBeNull()
    // Every kind ran at least once, and a real amount of writing was acknowledged.
    for (const kind of faultKindsFor('links')) expect(result.faults[kind], `${kind}\n${report}`).toBeGreaterThanOrEqual(1)
    expect(result.writes.acked).toBeGreaterThan(100)
    expect(result.live?.copies).toBeGreaterThanOrEqual(4)
    expect(result.disk?.copies).toBe(3)
  }, 170_000)
})
