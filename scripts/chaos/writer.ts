/**
 * The campaign's clients: a stock y-websocket `WebsocketProvider` per writer, subscribed to
 * the relay's saved acknowledgements (type 100, handled by an extra entry in the provider's
 * `messageHandlers`), writing seeded random operations and logging each with the clock it
 * reached, so the checker knows which writes were acknowledged.
 *
 * - `text` writers (stock Yjs types): insert a unique token as its own line, delete an own
 *   token (with a marker key in the same transaction), delete an own token alone (a
 *   delete-only change: moves no clock, acknowledged once the ack's stored delete set covers
 *   what it deleted), set and delete own map keys.
 * - `crdt` writers (tandem's crdt/): increment a shared PN-counter, add to an OR-set.
 *
 * Every other operation creates at least one struct, so "acknowledged" is "the saved state
 * vector reached the clock of this operation"; a delete-only one needs the delete set too.
 *
 * @module
 */
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket } from 'ws'
import { counter, orSet, type Counter, type ORSetHandle } from '../../crdt/index.ts'
import { MESSAGE_SAVED, coversDeletions, encodeSavedSubscribe, readSaved, type DeletedRanges } from '../../relay/wire/protocol.ts'
import type { Rng } from './rng.ts'

export type WriterKind = 'text' | 'crdt'
/** The room each kind writes to. */
export const ROOM: Record<WriterKind, string> = { text: 'chaos-text', crdt: 'chaos-crdt' }
export const COUNTER = 'hits'
export const SET = 'tags'

/** One logged operation. `clock` is this client's clock after it; `acked` iff a saved ack reached it. */
export type Op =
  | { kind: 'insert'; token: string; clock: number }
  | { kind: 'delete'; token: string; clock: number }
  | { kind: 'delete-only'; token: string; clock: number }
  | { kind: 'set'; key: string; value: number; clock: number }
  | { kind: 'unset'; key: string; clock: number }
  | { kind: 'increment'; by: number; clock: number }
  | { kind: 'add'; value: string; clock: number }

/** A line of the shared text is one token; tokens never interleave (inserted at line starts). */
export const tokensOf = (text: string): string[] => text.split('\n').filter((l) => l.length > 0)

/** One client of the campaign. */
export class Writer {
  readonly name: string
  readonly kind: WriterKind
  readonly relay: number
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  readonly ops: Op[] = []
  /** Highest saved clock seen for this client (acknowledged up to here). */
  acked = 0
  /** Acknowledgements received. */
  acks = 0
  /** Delete-only operations whose deletions an ack's stored delete set covered. */
  private readonly deletesAcked = new Set<Op>()
  /** Delete-only operations not yet covered, with what they deleted. */
  private readonly deletesPending = new Map<Op, Y.Transaction['deleteSet']>()
  online = true
  gone = false
  private readonly rng: Rng
  private readonly counter: Counter | null
  private readonly set: ORSetHandle<string> | null
  private readonly live = new Set<string>()
  private readonly liveKeys = new Set<string>()
  private n = 0

  constructor(name: string, kind: WriterKind, relay: number, url: string, rng: Rng) {
    this.name = name
    this.kind = kind
    this.relay = relay
    this.rng = rng
    this.counter = kind === 'crdt' ? counter(this.doc, COUNTER) : null
    this.set = kind === 'crdt' ? orSet<string>(this.doc, SET) : null
    this.provider = new WebsocketProvider(url, ROOM[kind], this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      maxBackoffTime: 500,
    })
    this.provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      const { stateVector: sv, deleteSet } = readSaved(decoder)
      this.acks++
      this.acked = Math.max(this.acked, sv.get(this.doc.clientID) ?? 0)
      this.ackDeletes(deleteSet)
    }
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.provider.ws?.send(new Uint8Array(encodeSavedSubscribe()))
    })
  }

  /** This client's current clock (what "everything acknowledged" means). */
  get clock(): number {
    return Y.getState(this.doc.store, this.doc.clientID)
  }

  /** Whether every operation so far is acknowledged. */
  get allAcked(): boolean {
    return this.acked >= this.clock && this.deletesPending.size === 0
  }

  isAcked(op: Op): boolean {
    return op.kind === 'delete-only' ? this.deletesAcked.has(op) : this.acked >= op.clock
  }

  /** Marks the pending delete-only operations `stored` covers (a stored deletion stays stored). */
  private ackDeletes(stored: DeletedRanges | null): void {
    for (const [op, ds] of this.deletesPending) {
      if (!coversDeletions(stored, ds)) continue
      this.deletesAcked.add(op)
      this.deletesPending.delete(op)
    }
  }

  /** Performs one random operation. */
  step(): void {
    if (this.gone) return
    const id = `${this.name}.${this.n++}`
    if (this.kind === 'crdt') {
      if (this.rng.chance(0.6)) {
        const by = this.rng.int(1, 5)
        this.counter!.increment(by)
        this.ops.push({ kind: 'increment', by, clock: this.clock })
      } else {
        this.set!.add(id)
        this.ops.push({ kind: 'add', value: id, clock: this.clock })
      }
      return
    }
    const text = this.doc.getText('t')
    const map = this.doc.getMap<number>('m')
    const roll = this.rng.next()
    const own = [...this.live]
    if (roll < 0.15 && own.length > 0) {
      const token = this.rng.pick(own)
      const at = text.toString().indexOf(`${token}\n`)
      if (at < 0) return
      this.live.delete(token)
      if (this.rng.chance(0.5)) {
        this.doc.transact(() => {
          text.delete(at, token.length + 1)
          map.set(`del:${token}`, 1)
        })
        this.ops.push({ kind: 'delete', token, clock: this.clock })
      } else {
        let deleted: Y.Transaction['deleteSet'] | null = null
        this.doc.transact((tr) => {
          text.delete(at, token.length + 1)
          deleted = tr.deleteSet
        })
        const op: Op = { kind: 'delete-only', token, clock: this.clock }
        this.ops.push(op)
        if (deleted) this.deletesPending.set(op, deleted)
      }
    } else if (roll < 0.3 && this.liveKeys.size > 0) {
      const key = this.rng.pick([...this.liveKeys])
      this.liveKeys.delete(key)
      this.doc.transact(() => {
        map.delete(key)
        map.set(`del:${key}`, 1)
      })
      this.ops.push({ kind: 'unset', key, clock: this.clock })
    } else if (roll < 0.5) {
      const value = this.rng.int(0, 1_000_000)
      map.set(id, value)
      this.liveKeys.add(id)
      this.ops.push({ kind: 'set', key: id, value, clock: this.clock })
    } else {
      const content = text.toString()
      const starts = [0]
      for (let i = content.indexOf('\n'); i >= 0; i = content.indexOf('\n', i + 1)) starts.push(i + 1)
      text.insert(this.rng.pick(starts), `${id}\n`)
      this.live.add(id)
      this.ops.push({ kind: 'insert', token: id, clock: this.clock })
    }
  }

  /** Goes offline (keeps writing locally). */
  goOffline(): void {
    if (this.gone || !this.online) return
    this.online = false
    this.provider.disconnect()
  }

  /** Comes back online (the provider syncs what either side missed). */
  goOnline(): void {
    if (this.gone || this.online) return
    this.online = true
    void this.provider.connect()
  }

  /** Leaves for good: whatever was not acknowledged may be lost. */
  leave(): void {
    if (this.gone) return
    this.gone = true
    this.online = false
    this.provider.destroy()
  }

  /** Whether the provider is connected and synced. */
  get synced(): boolean {
    return this.provider.wsconnected && this.provider.synced
  }

  destroy(): void {
    if (!this.gone) this.provider.destroy()
    this.gone = true
  }
}
