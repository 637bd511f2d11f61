/**
 * A network of Y.Docs in the style of Yjs's own test helper: every update is held in flight
 * per receiver; `flushRandomMessage` delivers a random one (sometimes twice); peers disconnect
 * (their messages are dropped) and reconnect (catching up by state-vector exchange). Every
 * choice comes from one seeded PRNG, so a run is repeatable from its seed.
 */
import * as Y from 'yjs'
import * as prng from 'lib0/prng'

interface Message { from: number, to: number, update: Uint8Array }

export class TestConnector {
  readonly docs: Y.Doc[]
  readonly online: boolean[]
  readonly gen: prng.PRNG
  private inflight: Message[] = []
  private readonly retired = new Set<number>()

  constructor (n: number, seed: number) {
    this.gen = prng.create(seed)
    this.docs = Array.from({ length: n }, (_, i) => {
      const d = new Y.Doc()
      d.clientID = 1000 + i
      return d
    })
    this.online = this.docs.map(() => true)
    this.docs.forEach((d, i) => d.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return // received from the network: the sender already broadcast it
      this.broadcast(i, update)
    }))
  }

  private broadcast (from: number, update: Uint8Array): void {
    if (!this.online[from]) return
    for (let to = 0; to < this.docs.length; to++) if (to !== from && this.online[to]) this.inflight.push({ from, to, update })
  }

  get pending (): number { return this.inflight.length }

  /** Delivers one random message (with probability 0.1 a duplicate stays in flight). */
  flushRandomMessage (): boolean {
    if (this.inflight.length === 0) return false
    const i = prng.int32(this.gen, 0, this.inflight.length - 1)
    const m = this.inflight[i]!
    if (prng.real53(this.gen) >= 0.1) this.inflight.splice(i, 1)
    if (this.online[m.from] && this.online[m.to]) Y.applyUpdate(this.docs[m.to]!, m.update, this)
    return true
  }

  /** Takes a peer offline: messages to and from it are dropped. */
  disconnect (i: number): void {
    this.online[i] = false
    this.inflight = this.inflight.filter(m => m.from !== i && m.to !== i)
  }

  /** Takes a peer offline for good (a departed replica): it never reconnects. */
  retire (i: number): void {
    this.disconnect(i)
    this.retired.add(i)
  }

  /** Brings a peer back: it and every online peer exchange what the other lacks. */
  reconnect (i: number): void {
    if (this.retired.has(i)) return
    this.online[i] = true
    const d = this.docs[i]!
    for (let j = 0; j < this.docs.length; j++) {
      if (j === i || !this.online[j]) continue
      const o = this.docs[j]!
      this.inflight.push({ from: i, to: j, update: Y.encodeStateAsUpdate(d, Y.encodeStateVector(o)) })
      this.inflight.push({ from: j, to: i, update: Y.encodeStateAsUpdate(o, Y.encodeStateVector(d)) })
    }
  }

  /** Reconnects everyone and delivers everything. Bounded: duplicates die out geometrically. */
  syncAll (): void {
    for (let i = 0; i < this.docs.length; i++) if (!this.online[i] && !this.retired.has(i)) this.reconnect(i)
    for (let guard = 0; this.flushRandomMessage(); guard++) if (guard > 1_000_000) throw new Error('syncAll did not finish')
  }
}
