/**
 * Negative control of the fault campaign: the same campaign, but `disk-fail` makes a disk
 * that acknowledges appends and stores nothing (a lying disk). The checker must report the
 * acknowledged writes missing from that relay's data directory after kill -9 — over peer
 * links and in Redis mode (where the other relays' copies come through Redis).
 */
import { describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import { runCampaign } from '../../../scripts/chaos/campaign.ts'

const SEED = Number(process.env.TANDEM_CHAOS_SEED ?? 2424)

describe('fault campaign negative control', () => {
  it.each([
    ['peer links', false],
    ['Redis mode', true],
  ])(`catches acknowledged writes a lying disk never stored, %s (seed ${SEED})`, async (_mode, redis) => {
    const result = await runCampaign({ seconds: 6, seed: SEED, relays: 3, redis, kinds: ['disk-fail'], lyingDisk: true })
    await rm(result.dir, { recursive: true, force: true })
    const report = JSON.stringify({ ...result, events: undefined, losses: result.losses.slice(0, 3) }, null, 1)
    expect(result.mode, report).toBe(redis ? 'redis' : 'links')
    expect(result.faults['disk-fail'], report).toBeGreaterThanOrEqual(1)
    expect(result.lost, report).toBeGreaterThan(0)
    expect(result.ok).toBe(false)
    expect(result.losses.every((l) => /\(disk after kill -9\)/.test(l.where)), report).toBe(true)
    // Every live copy was still complete: only the disk lied.
    expect(result.live?.equal, report).toBe(true)
  }, 120_000)
})
