/**
 * Per-IP limits, checked at admission (WebSocket upgrades and HTTP room routes): open
 * connections and distinct rooms opened per minute. Addresses named by `--per-ip-exempt` are
 * not limited (none by default: loopback is limited too).
 *
 * @module
 */

/** Per-IP bookkeeping: open connections and distinct rooms opened in the current minute. Exempt addresses are not limited. */
export class IpLimits {
  private readonly connections = new Map<string, number>()
  private readonly rooms = new Map<string, { since: number; names: Set<string> }>()
  private readonly exempt: ReadonlySet<string>
  constructor(
    private readonly maxConnections: number,
    private readonly maxRoomsPerMinute: number,
    exempt: readonly string[] = [],
  ) {
    this.exempt = new Set(exempt)
  }

  /** Counts a connection of `ip`; false (nothing counted) when it already has the maximum. */
  openConnection(ip: string): boolean {
    if (this.exempt.has(ip)) return true
    const n = this.connections.get(ip) ?? 0
    if (n >= this.maxConnections) return false
    this.connections.set(ip, n + 1)
    return true
  }

  /** Releases a connection counted by {@link openConnection}. */
  closeConnection(ip: string): void {
    if (this.exempt.has(ip)) return
    const n = (this.connections.get(ip) ?? 1) - 1
    if (n <= 0) this.connections.delete(ip)
    else this.connections.set(ip, n)
  }

  /** Records that `ip` opens `room`; false when that would be one distinct room too many this minute. */
  openRoom(ip: string, room: string, now = Date.now()): boolean {
    if (this.exempt.has(ip)) return true
    let window = this.rooms.get(ip)
    if (!window || now - window.since >= 60_000) {
      window = { since: now, names: new Set() }
      this.rooms.set(ip, window)
    }
    if (window.names.has(room)) return true
    if (window.names.size >= this.maxRoomsPerMinute) return false
    window.names.add(room)
    return true
  }

  /** Forgets room windows older than a minute (call now and then). */
  sweep(now = Date.now()): void {
    for (const [ip, window] of this.rooms) if (now - window.since >= 60_000) this.rooms.delete(ip)
  }

  /** IPs tracked (for tests of boundedness). */
  get size(): number {
    return this.connections.size + this.rooms.size
  }
}
