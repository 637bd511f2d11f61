/**
 * The deny list shared by every relay on one Redis: a token revoked (or a revocation lifted) on
 * any relay is refused by all of them within a second, and stays so across relay and Redis
 * restarts.
 *
 * - Redis holds the cluster's list in one hash (`tandem:deny`: `jti` → JSON of the entry). A
 *   change made here (or brought by a peer link) is written with a Lua script that keeps the
 *   later decision per `jti` — the same last-writer-wins rule as {@link DenyList.merge}: a
 *   higher `at` wins, a revocation wins a tie against a lifted one — and publishes what it
 *   wrote on `tandem:deny:changes`, in the same atomic step.
 * - Every relay subscribes to that channel (on the edge's pub/sub connection, renewed on every
 *   reconnect) and merges what it hears; a message that is not JSON of the expected shape is
 *   logged and dropped.
 * - On every (re)connect, once subscribed (so nothing published meanwhile is missed), a relay
 *   reads the whole hash and merges it, then writes every entry of its own that the hash lacks
 *   or holds older: a relay that revoked while Redis was away publishes it when Redis returns,
 *   and a Redis that came back empty is refilled by the first relay to reconnect. Expired
 *   entries found there are deleted (unless rewritten meanwhile).
 *
 * Message: JSON `{"from": "<relay instance>", "entries": [<entry>, ...]}`.
 *
 * @module
 */
import { isDenyEntry, type DenyEntry, type DenySource } from '../auth/deny-list.ts'
import type { RedisMetrics } from './redis-metrics.ts'
import { MergeBridge, type MergeBridgeBase } from './merge-bridge.ts'
import type { RedisDenyList } from './surface.ts'

/**
 * KEYS[1] the deny hash. ARGV[1] the change channel, ARGV[2] the writing relay instance, then
 * per entry: jti, JSON, at, lifted (`1`/`0`). Writes each entry that wins over the stored one
 * (or where none, or an unreadable one, is stored), publishes those written, returns how many.
 */
export const DENY_WRITE_LUA = `
local out = {}
for i = 3, #ARGV, 4 do
  local jti, json, at, lifted = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3] == '1'
  local write = true
  local stored = redis.call('HGET', KEYS[1], jti)
  if stored then
    local ok, e = pcall(cjson.decode, stored)
    if ok and type(e) == 'table' and type(e.at) == 'number' then
      if e.at > at then write = false
      elseif e.at == at then write = (e.lifted == true) and not lifted end
    end
  end
  if write then
    redis.call('HSET', KEYS[1], jti, json)
    out[#out + 1] = json
  end
end
if #out > 0 then
  redis.call('PUBLISH', ARGV[1], '{"from":' .. cjson.encode(ARGV[2]) .. ',"entries":[' .. table.concat(out, ',') .. ']}')
end
return #out
`

/** KEYS[1] the deny hash. ARGV: pairs of jti and the value read: deletes each still holding that value. */
export const DENY_DROP_LUA = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return n
`

/** Entries per script call (bounds one call's arguments and the time Redis spends in it). */
const BATCH = 500
/** A failed write is retried (by a full sync) this long after, while connected. */
const RETRY_MS = 1000

type Scripts = {
  tandemDenyWrite(key: string, ...args: Array<string | number>): Promise<number>
  tandemDenyDrop(key: string, ...args: string[]): Promise<number>
}

/** The Redis edge's source of merged entries: changes it made are never written back. */
function fromRedis(source: DenySource): boolean {
  return source !== 'local' && source.edge === 'redis'
}

function parseEntry(json: string): DenyEntry | null {
  try {
    const e = JSON.parse(json) as unknown
    return isDenyEntry(e) ? e : null
  } catch {
    return null
  }
}

export interface DenyBridgeOptions extends MergeBridgeBase {
  /** `<id>#<boot nonce>` of this relay (its own messages are skipped). */
  instance: string
  /** The deny hash key (keys.ts); `channel` is the change channel. */
  hash: string
  denyList: RedisDenyList
  metrics: RedisMetrics
}

export class DenyBridge extends MergeBridge<DenyBridgeOptions> {
  private readonly scripts: Scripts

  constructor(options: DenyBridgeOptions) {
    super(options, 'deny list')
    const { cmd, denyList } = options
    cmd.defineCommand('tandemDenyWrite', { numberOfKeys: 1, lua: DENY_WRITE_LUA })
    cmd.defineCommand('tandemDenyDrop', { numberOfKeys: 1, lua: DENY_DROP_LUA })
    this.scripts = cmd as unknown as Scripts
    this.offLocal = denyList.onChange((changed, source) => {
      // a change made here (or by a peer link): to Redis now, or by the next sync if Redis is away
      if (!fromRedis(source)) this.writeOrRetry(() => this.writeNow(changed), { jti: changed.slice(0, 10).map((e) => e.jti) })
    })
  }

  protected async syncOnce(): Promise<void> {
    const { cmd, hash, denyList, logger } = this.o
    const held = new Map<string, { entry: DenyEntry; raw: string }>()
    let unreadable = 0
    let cursor = '0'
    do {
      const [next, flat] = await cmd.call('HSCAN', hash, cursor, 'COUNT', 1000) as [string, string[]]
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const raw = flat[i + 1] as string
        const entry = parseEntry(raw)
        if (entry && entry.jti === flat[i]) held.set(entry.jti, { entry, raw })
        else unreadable++
      }
      cursor = next
    } while (cursor !== '0')
    if (unreadable > 0) logger.warn({ key: hash, unreadable }, 'deny list: entries in Redis that are not deny entries ignored (a later decision overwrites them)')
    this.o.metrics.entriesReceived.inc({ kind: 'deny' }, held.size)
    const merged = await denyList.merge([...held.values()].map((h) => h.entry), { edge: 'redis' })
    if (merged.length > 0) logger.info({ changed: merged.length, jti: merged.slice(0, 10).map((e) => e.jti) }, 'deny list: decisions read from Redis applied')
    // What this relay holds that Redis lacks or holds older (after the merge, a differing entry is the later one).
    const newer = denyList.entries().filter((e) => {
      const h = held.get(e.jti)?.entry
      return !h || h.at !== e.at || (h.lifted === true) !== (e.lifted === true)
    })
    if (newer.length > 0) {
      const written = await this.writeNow(newer)
      logger.info({ written, of: newer.length }, 'deny list: decisions made while away written to Redis')
    }
    const now = Date.now() / 1000
    const expired = [...held.values()].filter((h) => h.entry.until <= now)
    for (let i = 0; i < expired.length; i += BATCH) {
      await this.scripts.tandemDenyDrop(hash, ...expired.slice(i, i + BATCH).flatMap((h) => [h.entry.jti, h.raw]))
    }
  }

  private async writeNow(entries: DenyEntry[]): Promise<number> {
    let written = 0
    for (let i = 0; i < entries.length; i += BATCH) {
      const args = entries.slice(i, i + BATCH).flatMap((e) => [e.jti, JSON.stringify(e), e.at, e.lifted ? '1' : '0'])
      written += await this.scripts.tandemDenyWrite(this.o.hash, this.o.channel, this.o.instance, ...args)
    }
    this.o.metrics.entriesSent.inc({ kind: 'deny' }, written)
    return written
  }

  protected async receive(message: Buffer): Promise<void> {
    const { logger, instance, channel } = this.o
    let body: { from?: unknown; entries?: unknown }
    try {
      body = JSON.parse(message.toString()) as typeof body
    } catch {
      logger.warn({ channel, bytes: message.byteLength }, 'deny list: message from Redis is not JSON; ignored')
      return
    }
    if (typeof body !== 'object' || body === null || !Array.isArray(body.entries)) {
      logger.warn({ channel, bytes: message.byteLength }, 'deny list: message from Redis is not {from, entries}; ignored')
      return
    }
    const from = typeof body.from === 'string' ? body.from : undefined
    if (from === instance) return
    const bad = body.entries.filter((e) => !isDenyEntry(e)).length
    if (bad > 0) logger.warn({ channel, from, bad }, 'deny list: malformed entries from Redis ignored')
    this.o.metrics.entriesReceived.inc({ kind: 'deny' }, body.entries.length - bad)
    try {
      const merged = await this.o.denyList.merge(body.entries, { edge: 'redis', ...(from ? { from } : {}) })
      if (merged.length > 0) logger.info({ from, jti: merged.slice(0, 10).map((e) => e.jti), changed: merged.length }, 'deny list: decisions from Redis applied')
    } catch (err) {
      logger.error({ err, from }, 'deny list: applying decisions from Redis failed')
    }
  }
}
