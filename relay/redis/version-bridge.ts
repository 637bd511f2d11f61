/**
 * The history's version marks (relay/history/version-marks.ts) shared by every relay on one
 * Redis: a version named, restored or deleted on any relay is listed on all of them, and a relay
 * that was away (or a Redis that came back empty) catches up on its next connection.
 *
 * - Redis holds every mark in one hash (`tandem:{versions}`: `<room>\0<version id>` → the mark's
 *   bytes, its state included) and the order of each (`tandem:{versions}:order`: same field →
 *   `<at, 16 hex digits>:<relay id>`). A mark is written with a Lua script that keeps the later
 *   decision per field — the last-writer-wins rule of the history's merge — and publishes what it
 *   wrote on `tandem:versions:changes` (`<relay instance>\0<mark bytes>`), in the same atomic step.
 * - Every relay subscribes to that channel (renewed on every reconnect) and merges what it hears;
 *   the history checks each mark (sizes, fields, its state hashes to its id) and drops a malformed
 *   one with a log line.
 * - On every (re)connect, once subscribed, a relay reads the order hash (no states), fetches and
 *   merges the marks Redis holds newer or it lacks, then writes the marks it holds newer or Redis
 *   lacks: what was decided while Redis was away is published when it returns, and a Redis that
 *   came back empty is refilled.
 *
 * Whoever can write to Redis is inside the cluster (as for updates); the marks are checked all the
 * same, so a malformed one harms nothing.
 *
 * @module
 */
import type { RedisMetrics } from './redis-metrics.ts'
import { MergeBridge, type MergeBridgeBase } from './merge-bridge.ts'
import type { RedisMarkKey, RedisVersionMarks } from './surface.ts'

/**
 * KEYS[1] the marks hash, KEYS[2] the order hash. ARGV[1] the change channel, ARGV[2] the
 * writing relay instance, then per mark: field, order, bytes. Writes each mark whose order is
 * greater than the stored one's (or where none is stored), publishes those written, returns how many.
 */
export const VERSIONS_WRITE_LUA = `
local n = 0
for i = 3, #ARGV, 3 do
  local field, order, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local held = redis.call('HGET', KEYS[2], field)
  if (not held) or order > held then
    redis.call('HSET', KEYS[1], field, value)
    redis.call('HSET', KEYS[2], field, order)
    redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\0' .. value)
    n = n + 1
  end
end
return n
`

/** Marks per script call or read (bounds one call's size and Redis's time in it). */
const BATCH = 50

type Scripts = { tandemVersionsWrite(marks: string, order: string, ...args: Array<string | Buffer>): Promise<number> }

/** The order string of a mark (version-marks.ts `markOrder`; repeated here so the edge depends on the seam only). */
const orderOf = (k: { at: number; relay: string }): string => `${Math.floor(k.at).toString(16).padStart(16, '0')}:${k.relay}`
const fieldOf = (k: { room: string; id: string }): string => `${k.room}\u0000${k.id}`

export interface VersionBridgeOptions extends MergeBridgeBase {
  /** `<id>#<boot nonce>` of this relay (its own messages are skipped). */
  instance: string
  /** The marks hash and the order hash (keys.ts); `channel` is the change channel. */
  marks: string
  order: string
  versions: RedisVersionMarks
  metrics: RedisMetrics
}

export class VersionBridge extends MergeBridge<VersionBridgeOptions> {
  private readonly scripts: Scripts

  constructor(options: VersionBridgeOptions) {
    super(options, 'version marks')
    options.cmd.defineCommand('tandemVersionsWrite', { numberOfKeys: 2, lua: VERSIONS_WRITE_LUA })
    this.scripts = options.cmd as unknown as Scripts
    this.offLocal = options.versions.onChange((encoded, key, source) => {
      if (source === 'local' || source.edge !== 'redis') this.writeOrRetry(() => this.writeNow([{ key, encoded }]))
    })
  }

  protected async syncOnce(): Promise<void> {
    const { cmd, versions, logger } = this.o
    const theirs = new Map<string, string>()
    let cursor = '0'
    do {
      const [next, flat] = await cmd.call('HSCAN', this.o.order, cursor, 'COUNT', 1000) as [string, string[]]
      for (let i = 0; i + 1 < flat.length; i += 2) theirs.set(flat[i]!, flat[i + 1]!)
      cursor = next
    } while (cursor !== '0')
    const mine = new Map(versions.keys().map((k) => [fieldOf(k), k]))
    // Marks Redis holds newer (or this relay lacks): fetched and merged.
    const fetch = [...theirs].filter(([field, order]) => {
      const k = mine.get(field)
      return !k || order > orderOf(k)
    }).map(([field]) => field)
    let merged = 0
    for (let i = 0; i < fetch.length; i += BATCH) {
      const values = await cmd.hmgetBuffer(this.o.marks, ...fetch.slice(i, i + BATCH))
      const marks = values.filter((v): v is Buffer => v !== null).map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      this.o.metrics.entriesReceived.inc({ kind: 'version' }, marks.length)
      merged += await versions.merge(marks, { edge: 'redis' })
    }
    if (merged > 0) logger.info({ changed: merged }, 'version marks: read from Redis and applied')
    // Marks this relay holds newer (or Redis lacks): written.
    const newer = [...mine.values()].filter((k) => {
      const t = theirs.get(fieldOf(k))
      return !t || orderOf(k) > t
    })
    for (let i = 0; i < newer.length; i += BATCH) {
      await this.writeNow(await versions.read(newer.slice(i, i + BATCH)))
    }
    if (newer.length > 0) logger.info({ marks: newer.length }, 'version marks made while away written to Redis')
  }

  private async writeNow(marks: Array<{ key: RedisMarkKey; encoded: Uint8Array }>): Promise<number> {
    let written = 0
    for (let i = 0; i < marks.length; i += BATCH) {
      const args = marks.slice(i, i + BATCH).flatMap(({ key, encoded }) => [fieldOf(key), orderOf(key), Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)])
      written += await this.scripts.tandemVersionsWrite(this.o.marks, this.o.order, this.o.channel, this.o.instance, ...args)
    }
    this.o.metrics.entriesSent.inc({ kind: 'version' }, written)
    return written
  }

  protected async receive(message: Buffer): Promise<void> {
    const cut = message.indexOf(0)
    if (cut < 0) {
      this.o.logger.warn({ channel: this.o.channel, bytes: message.byteLength }, 'version marks: message from Redis is not <instance>\\0<mark>; ignored')
      return
    }
    const from = message.subarray(0, cut).toString()
    if (from === this.o.instance) return
    this.o.metrics.entriesReceived.inc({ kind: 'version' })
    const mark = message.subarray(cut + 1)
    try {
      await this.o.versions.merge([new Uint8Array(mark.buffer, mark.byteOffset, mark.byteLength)], { edge: 'redis', from })
    } catch (err) {
      this.o.logger.error({ err, from }, 'version marks: applying a mark from Redis failed')
    }
  }
}
