/**
 * One trust domain for a cluster of peer relays: the deny list (revoked tokens) travels on
 * the peer links. A relay sends its whole list when a link comes up, and every change as it
 * happens to every linked peer except the one it came from. The list merges per token id
 * (later decision wins) and a merge returns only what changed, so a change floods a mesh,
 * a star (through the hub) or a ring and stops by itself; a relay that was down or cut off
 * catches up on its next link up.
 *
 * @module
 */
import type { Logger } from 'pino'
import type { PeerConnection } from './peer-connection.ts'
import { encodeFrame, type DenyWireEntry } from './peer-protocol.ts'
import type { TopologyDenyEntry, TopologyDenyList } from './relay-surface.ts'

/** Entries per `deny` frame (a full list is sent in several frames, each well under any frame limit). */
export const DENY_ENTRIES_PER_FRAME = 1000
const EDGE = 'topology'

function toWire(e: TopologyDenyEntry): DenyWireEntry {
  return { jti: e.jti, until: e.until, at: e.at, ...(e.lifted ? { lifted: true } : {}) }
}

export class DenyReplication {
  private readonly unsubscribe: () => void

  constructor(
    private readonly list: TopologyDenyList,
    private readonly links: () => Iterable<PeerConnection>,
    private readonly logger: Logger,
    private readonly sent: (conn: PeerConnection, bytes: number) => void,
  ) {
    this.unsubscribe = list.onChange((changed, source) => {
      const from = typeof source === 'object' && source.edge === EDGE ? source.from : undefined
      for (const conn of this.links()) if (conn.peerId !== from) this.send(conn, changed)
    })
  }

  /** A link came up: send it the whole list (tombstones included). */
  linkUp(conn: PeerConnection): void {
    const all = this.list.entries()
    if (all.length > 0) this.send(conn, all)
  }

  /** A peer's `deny` frame: merge it (the change listener passes on what was new). */
  async receive(conn: PeerConnection, entries: DenyWireEntry[]): Promise<void> {
    const changed = await this.list.merge(entries, { edge: EDGE, from: conn.peerId as string })
    if (changed.length > 0) {
      this.logger.info({ peer: conn.peerId, revoked: changed.filter((e) => !e.lifted).length, lifted: changed.filter((e) => e.lifted).length }, 'deny list changed by a peer')
    }
  }

  stop(): void {
    this.unsubscribe()
  }

  private send(conn: PeerConnection, entries: readonly TopologyDenyEntry[]): void {
    for (let i = 0; i < entries.length; i += DENY_ENTRIES_PER_FRAME) {
      const n = conn.sendFrame({ kind: 'deny', entries: entries.slice(i, i + DENY_ENTRIES_PER_FRAME).map(toWire) })
      if (n > 0) this.sent(conn, n)
    }
  }
}
