/**
 * What the peer links can promise right now, as the `peers` component of `/health` (and
 * `tandem_health_ok{component="peers"}`): ok only when every peer this relay knows — the
 * ones it dials, and any that linked to it since it started — is linked AND caught up (the
 * peer said `synced` after answering this relay's complete digest, and every frame before
 * that was applied). Otherwise degraded, with each peer's reason: not linked yet, link down
 * since when and why, or catching up.
 *
 * @module
 */

/** Where `peers` health is reported (the relay's Health, structurally). */
export interface HealthSink {
  set(component: string, state: { ok: boolean; detail?: string }): void
  delete(component: string): void
}

type PeerState =
  | { state: 'unlinked'; since: number; reason: string }
  | { state: 'catching-up'; since: number }
  | { state: 'synced'; since: number }

export const PEERS_COMPONENT = 'peers'

export class PeerHealth {
  /** By peer id, or `url:<url>` for a configured peer whose id is not known yet. */
  private readonly peers = new Map<string, PeerState>()

  constructor(private readonly sink: HealthSink | undefined, private readonly now: () => number = Date.now) {}

  /** A configured peer URL this relay dials (its id is learnt when it links). */
  expectUrl(url: string): void {
    this.peers.set(`url:${url}`, { state: 'unlinked', since: this.now(), reason: 'not linked yet' })
    this.report()
  }

  /** The peer dialled at `url` proved it is `peer`: it is tracked by its id from now on. */
  resolved(url: string): void {
    if (this.peers.delete(`url:${url}`)) this.report()
  }

  /** A link to `peer` is up: it now catches up. */
  linked(peer: string): void {
    this.peers.set(peer, { state: 'catching-up', since: this.now() })
    this.report()
  }

  /** `peer` sent everything this relay lacked, and it is applied. */
  synced(peer: string): void {
    if (this.peers.get(peer)?.state !== 'catching-up') return
    this.peers.set(peer, { state: 'synced', since: this.now() })
    this.report()
  }

  /** The link to `peer` went down (`reason`: the close code and reason). */
  down(peer: string, reason: string): void {
    this.peers.set(peer, { state: 'unlinked', since: this.now(), reason })
    this.report()
  }

  /** True when every known peer is linked and caught up. */
  get ok(): boolean {
    return [...this.peers.values()].every((p) => p.state === 'synced')
  }

  stop(): void {
    this.sink?.delete(PEERS_COMPONENT)
  }

  /** The per-peer reasons, for `/health`. */
  detail(): string {
    if (this.peers.size === 0) return 'no peers known yet'
    return [...this.peers].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => {
      const who = name.startsWith('url:') ? name.slice(4) : name
      const since = new Date(p.since).toISOString()
      if (p.state === 'synced') return `${who}: linked`
      if (p.state === 'catching-up') return `${who}: catching up since ${since}`
      return `${who}: ${p.reason} since ${since}`
    }).join('; ')
  }

  private report(): void {
    this.sink?.set(PEERS_COMPONENT, this.ok ? { ok: true, detail: this.detail() } : { ok: false, detail: this.detail() })
  }
}
