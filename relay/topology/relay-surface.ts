/**
 * The parts of the relay core the topology extension uses, as structural types, so
 * the topology depends on the seam (CONTRACT.md), not on the relay's internals.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface TopologyRoom {
  readonly name: string
  /** Applies a peer's update; false when it brought nothing new (nothing stored, so no ack follows). */
  applyUpdate(update: Uint8Array, origin: unknown): boolean
  stateVector(): Uint8Array
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array
  /** What is durably stored for this room (optional: storage's state vector otherwise). */
  persistedStateVector?(): Uint8Array
  /** The room's doc, read for pending structs (missing dependencies). */
  readonly doc?: { store: { pendingStructs: unknown } }
}

export interface TopologyRooms {
  get(name: string): Promise<TopologyRoom>
  loaded(): Iterable<TopologyRoom>
}

export interface TopologyStorage {
  listRooms(): Promise<string[]>
  getStateVector(room: string): Promise<Uint8Array | null>
}

/** A deny-list entry as the topology carries it (see auth/deny-list.ts). */
export interface TopologyDenyEntry {
  jti: string
  until: number
  at: number
  lifted?: boolean
}

/** Where a deny-list change came from: the relay's own API, or an edge (`from`: the peer it came from). */
export type TopologyDenySource = 'local' | { edge: string; from?: string }

/** The relay's deny list, as the topology replicates it. */
export interface TopologyDenyList {
  entries(): TopologyDenyEntry[]
  merge(entries: readonly unknown[], source: TopologyDenySource): Promise<TopologyDenyEntry[]>
  onChange(listener: (changed: TopologyDenyEntry[], source: TopologyDenySource) => void): () => void
}

/** A version mark's key (see relay/history/version-marks.ts). */
export interface TopologyMarkKey {
  room: string
  id: string
  at: number
  relay: string
}

/** The history's version marks, as the topology replicates them (relay/history/version-marks.ts). */
export interface TopologyVersionMarks {
  keys(): TopologyMarkKey[]
  read(keys: ReadonlyArray<{ room: string; id: string }>): Promise<Array<{ key: TopologyMarkKey; encoded: Uint8Array }>>
  merge(encoded: readonly Uint8Array[], source: TopologyDenySource): Promise<number>
  onChange(listener: (encoded: Uint8Array, key: TopologyMarkKey, source: TopologyDenySource) => void): () => void
}

export interface TopologyContext {
  /**
   * Where the relay keeps its data (the topology keeps a small record beside it), and the
   * interface its client port listens on (where `/_peer` is served without `--peer-listen`).
   */
  config?: { data: string; storage: string; host?: string }
  /** The relay's TLS certificate and key, when it serves TLS: the peer listener serves it too. */
  tls?: { cert: Buffer; key: Buffer }
  rooms: TopologyRooms
  storage: TopologyStorage
  logger: Logger
  metrics: Registry
  /** The relay's deny list: its changes go to every peer, and peers' changes are merged in. */
  denyList?: TopologyDenyList
  /** The history's version marks: its changes go to every peer, and peers' marks are merged in. */
  versions?: TopologyVersionMarks
  /** The relay's health: the topology reports its `peers` component there. */
  health?: { set(component: string, state: { ok: boolean; detail?: string }): void; delete(component: string): void }
  routeUpgrade(
    path: string,
    handler: (ws: WebSocket, req: IncomingMessage) => void,
    authorize?: (req: IncomingMessage) => boolean | Promise<boolean>,
  ): void
}
