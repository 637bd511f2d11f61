/**
 * A small seeded PRNG (mulberry32) so a campaign's choices (topology, fault kinds, targets,
 * durations, writes) follow from its seed. Wall-clock timing still varies between runs. Tests and
 * benchmarks that need seeded numbers use {@link mulberry32} from here too.
 *
 * @module
 */

/** mulberry32: a seeded source of floats in [0, 1) (the same sequence for the same seed). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seeded random source with the helpers the campaign uses. */
export class Rng {
  /** A float in [0, 1). */
  readonly next: () => number

  constructor(seed: number) {
    // Scramble the seed (murmur3 finalizer) so neighbouring seeds start far apart.
    let h = (seed >>> 0) ^ 0x9e3779b9
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
    this.next = mulberry32((h ^ (h >>> 16)) >>> 0)
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** One element of `items` (non-empty). */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** One key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0)
    for (const [key, w] of entries) {
      r -= w
      if (r < 0) return key
    }
    return (entries[entries.length - 1] as [K, number])[0]
  }

  /** A new independent source derived from this one. */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 2 ** 32))
  }
}
