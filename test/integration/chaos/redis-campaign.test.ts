/**
 * A short seeded fault campaign in Redis mode (`npm run chaos -- --redis`): 3 relay processes
 * sharing rooms through one real redis-server (no peer links: every write that reaches another
 * relay went through Redis), every relay, client and Redis fault kind injected at least once,
 * then no acknowledged write lost, every live copy and every disk equal. Seed printed; set
 * TANDEM_CHAOS_REDIS_SEED to replay another.
 */
import { describe, expect, it } from 'vitest'
import { runCampaign } from '../../../scripts/chaos/campaign.ts'
import { faultKindsFor, LINK_FAULT_KINDS } from '../../../scripts/chaos/faults.ts'

const SEED = Number(process.env.TANDEM_CHAOS_REDIS_SEED ?? 2323)

describe('fault campaign, Redis mode', () => {
  it(`loses no acknowledged write through Redis killed, emptied, rewound, full and cut off (seed ${SEED})`, async () => {
    const lines: string[] = []
    const result = await runCampaign({
      seconds: 25, seed: SEED, relays: 3, redis: true, ensureEach: true, convergeTimeoutMs: 60_000,
      log: (line) => void lines.push(line),
    })
    const report = `seed ${SEED}: ${JSON.stringify({ ...result, events: undefined }, null, 1)}\n${lines.join('\n')}`
    expect(result.mode, report).toBe('redis')
    expect(result.problems, report).toEqual([])
    expect(result.lost, report).toBe(0)
    expect(result.ok, report).toBe(true)
    expect(result.convergeMs, report).not.toBeNull()
    for (const kind of faultKindsFor('redis')) expect(result.faults[kind], `${kind}\n${report}`).toBeGreaterThanOrEqual(1)
    for (const kind of LINK_FAULT_KINDS) expect(result.faults[kind], report).toBe(0)
    // The Redis faults happened as described: restarted empty, and from a copy older than the relays' data.
    const details = result.events.map((e) => `${e.kind}: ${e.detail ?? ''}`)
    expect(details.some((d) => /^redis-empty: .*restarted empty, up again/.test(d)), report).toBe(true)
    expect(details.some((d) => /^redis-old-copy: .*restarted from its (RDB snapshot|AOF copy) taken \d+ ms before, up again/.test(d)), report).toBe(true)
    expect(result.writes.acked).toBeGreaterThan(100)
    expect(result.live?.copies).toBeGreaterThanOrEqual(4)
    expect(result.disk?.copies).toBe(3)
  }, 170_000)
})
