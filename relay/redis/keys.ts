/**
 * Redis key names and stream-id arithmetic for the Redis edge.
 *
 * A room's keys share the hash tag `{<room>}`, so under Redis Cluster a room's stream and
 * its read positions live on one shard and the ack-and-trim script stays single-slot.
 *
 * @module
 */

/** The keys one deployment uses, all under `prefix` (default `tandem:`). */
export interface RedisKeys {
  /** Stream of a room's updates: fields `r` (relay instance), `u` (Yjs update), `k` (`u` live, `s` catch-up). */
  log(room: string): string
  /** Hash of a room's read positions: relay id → `<stream id>|<ms>` covered by that relay's stored state. */
  acks(room: string): string
  /** Pub/sub channel of a room's awareness updates (ephemeral). */
  awareness(room: string): string
  /**
   * Global stream of catch-up requests: fields `r`, `n` (room), `s` (state vector), `f` (`1` =
   * forced), `d` (fingerprint of the asker's delete set), `w` (ask id: every relay replies on the
   * asker's wake stream once it answered).
   */
  readonly ask: string
  /** Set of every room some relay on this Redis holds (a relay that never held a room learns here that it exists). */
  readonly rooms: string
  /** Sorted set of live relay instances, scored by when their lease ends (ms): who a catch-up waits for. */
  readonly live: string
  /** Hash relay id → lineage of its data directory (bumped before each round of read positions), to notice a restored old copy. */
  readonly lineage: string
  /** Random id of this Redis's contents; a different one after a reconnect means Redis restarted empty. */
  readonly epoch: string
  /** Lease on a relay id (value: the instance holding it), so two relays given one `--id` are noticed. */
  idLease(id: string): string
  /**
   * A relay instance's wake-up stream: interrupts its blocking read when it starts reading a new
   * room, and carries replies to its catch-up asks (fields `a` ask id, `r` replier, `p` the
   * stream id of the replier's answer or empty).
   */
  wake(instance: string): string
  /** Hash of the cluster's deny list: token id (`jti`) → JSON of its entry (last writer wins by `at`). */
  readonly deny: string
  /** Pub/sub channel of deny-list changes: JSON `{from, entries}`. */
  readonly denyChannel: string
  /** Hash of the history's version marks: `<room>\0<version id>` → the mark's bytes (version-bridge.ts). */
  readonly versions: string
  /** Hash of their order: same field → `<at in 16 hex digits>:<relay id>` (the later one wins). */
  readonly versionsOrder: string
  /** Pub/sub channel of version marks: `<relay instance>\0<mark bytes>`. */
  readonly versionsChannel: string
}

export function redisKeys(prefix = 'tandem:'): RedisKeys {
  return {
    log: (room) => `${prefix}{${room}}:log`,
    acks: (room) => `${prefix}{${room}}:acks`,
    awareness: (room) => `${prefix}{${room}}:awareness`,
    ask: `${prefix}ask`,
    rooms: `${prefix}rooms`,
    live: `${prefix}live`,
    lineage: `${prefix}lineage`,
    epoch: `${prefix}epoch`,
    wake: (instance) => `${prefix}wake:${instance}`,
    idLease: (id) => `${prefix}relay:${id}`,
    deny: `${prefix}deny`,
    denyChannel: `${prefix}deny:changes`,
    versions: `${prefix}{versions}`,
    versionsOrder: `${prefix}{versions}:order`,
    versionsChannel: `${prefix}versions:changes`,
  }
}

/** The start of every stream. */
export const STREAM_START = '0-0'

/** Compares two stream ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-')
  const [bm = '0', bs = '0'] = b.split('-')
  const ms = BigInt(am) - BigInt(bm)
  if (ms !== 0n) return ms < 0n ? -1 : 1
  const seq = BigInt(as) - BigInt(bs)
  return seq === 0n ? 0 : seq < 0n ? -1 : 1
}

/** The id `ms` milliseconds ago (a start position that also sees what was written just before). */
export function streamIdAgo(ms: number, now = Date.now()): string {
  return `${Math.max(0, now - ms)}-0`
}
