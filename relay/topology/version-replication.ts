/**
 * The history's version marks on the peer links (relay/history/version-marks.ts): a version
 * named, restored or deleted on one relay is listed on every relay of the cluster.
 *
 * - Live: every change of the marks (made here or merged from a peer) goes to every linked peer
 *   except the one it came from. Marks merge last-writer-wins per (room, version id) and a merge
 *   passes on only what changed, so a change floods a mesh, a star or a ring and stops by itself.
 * - Catch-up: on link up each side sends its index — every mark's (room, id, decision time,
 *   relay), no states — and answers the other's complete index with the marks the other lacks or
 *   holds older. A relay that was down or cut off gets what it missed on its next link up.
 *
 * The peer is trusted as it is for updates (it holds the peer secret); each mark is still checked
 * by the history (sizes, fields, its state hashes to its id) and a malformed one is dropped with a
 * log line, the link kept.
 *
 * @module
 */
import type { Logger } from 'pino'
import type { PeerConnection } from './peer-connection.ts'
import type { VersionIndexEntry } from './peer-protocol.ts'
import type { TopologyVersionMarks } from './relay-surface.ts'

/** Index entries per `version-index` frame. */
export const INDEX_ENTRIES_PER_FRAME = 1000
const EDGE = 'topology'

const wins = (a: { at: number; relay: string }, b: { at: number; relay: string }): boolean => (a.at !== b.at ? a.at > b.at : a.relay > b.relay)

export class VersionReplication {
  private readonly unsubscribe: () => void
  /** Per connection: the index it is sending, until its last frame. */
  private readonly indexes = new Map<PeerConnection, VersionIndexEntry[]>()

  constructor(
    private readonly marks: TopologyVersionMarks,
    private readonly links: () => Iterable<PeerConnection>,
    private readonly logger: Logger,
    private readonly sent: (conn: PeerConnection, bytes: number) => void,
  ) {
    this.unsubscribe = marks.onChange((encoded, _key, source) => {
      const from = typeof source === 'object' && source.edge === EDGE ? source.from : undefined
      for (const conn of this.links()) if (conn.peerId !== from) this.send(conn, [encoded])
    })
  }

  /** A link came up: send it the index of every mark held. */
  linkUp(conn: PeerConnection): void {
    this.indexes.delete(conn)
    const keys = this.marks.keys()
    for (let i = 0; i === 0 || i < keys.length; i += INDEX_ENTRIES_PER_FRAME) {
      const entries = keys.slice(i, i + INDEX_ENTRIES_PER_FRAME).map((k) => ({ room: k.room, id: k.id, at: k.at, relay: k.relay }))
      const n = conn.sendFrame({ kind: 'versionIndex', done: i + INDEX_ENTRIES_PER_FRAME >= keys.length, entries })
      if (n > 0) this.sent(conn, n)
    }
  }

  linkDown(conn: PeerConnection): void {
    this.indexes.delete(conn)
  }

  /** A part of the peer's index: once complete, answer with the marks it lacks or holds older. */
  async receiveIndex(conn: PeerConnection, done: boolean, entries: VersionIndexEntry[]): Promise<void> {
    const held = this.indexes.get(conn) ?? []
    held.push(...entries)
    if (!done) {
      this.indexes.set(conn, held)
      return
    }
    this.indexes.delete(conn)
    const theirs = new Map(held.map((e) => [`${e.room}\u0000${e.id}`, e]))
    const wanted = this.marks.keys().filter((k) => {
      const t = theirs.get(`${k.room}\u0000${k.id}`)
      return !t || wins(k, t)
    })
    for (const { encoded } of await this.marks.read(wanted)) this.send(conn, [encoded])
    if (wanted.length > 0) this.logger.debug({ peer: conn.peerId, marks: wanted.length }, 'version marks sent for catch-up')
  }

  /** A peer's `versions` frame: merged by the history (the change listener passes on what was new). */
  async receive(conn: PeerConnection, marks: Uint8Array[]): Promise<void> {
    const changed = await this.marks.merge(marks, { edge: EDGE, from: conn.peerId as string })
    if (changed > 0) this.logger.debug({ peer: conn.peerId, changed }, 'version marks from a peer applied')
  }

  stop(): void {
    this.unsubscribe()
    this.indexes.clear()
  }

  private send(conn: PeerConnection, marks: Uint8Array[]): void {
    const n = conn.sendFrame({ kind: 'versions', marks })
    if (n > 0) this.sent(conn, n)
  }
}
