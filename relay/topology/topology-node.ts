/**
 * One relay's place in a cluster: its authenticated links (at most one per peer), the
 * dialers for its configured peers, forwarding by policy, anti-entropy on link up, and
 * replication-lag accounting.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import type { Logger } from 'pino'
import { join } from 'node:path'
import { splitHostPort } from '../config/config.ts'
import { DirtyRooms } from './dirty-rooms.ts'
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts'
import { roomsToSend } from './catch-up.ts'
import { LagTracker } from './replication-lag.ts'
import { PeerConnection } from './peer-connection.ts'
import { PEER_PATH, PeerDialer } from './peer-link.ts'
import { PeerListener } from './peer-listener.ts'
import { peerExposure } from './peer-exposure.ts'
import { createPeerMetrics, type PeerMetrics } from './peer-metrics.ts'
import { PeerOrigin } from './peer-origin.ts'
import { DenyReplication } from './deny-replication.ts'
import { VersionReplication } from './version-replication.ts'
import { PeerHealth } from './peer-health.ts'
import { DeleteFingerprints } from './delete-fingerprints.ts'
import { DIGEST_FLAG_FORCE, DIGEST_FLAG_REPLY, PEER_CLOSE, encodeFrame, type DigestEntry, type PeerFrame } from './peer-protocol.ts'
import { forwardTargets, type Topology, type UpdateSource } from './policy.ts'
import type { TopologyContext, TopologyRoom } from './relay-surface.ts'
import { isNothing } from '../wire/protocol.ts'

/** Configuration of the topology part (the relay config's topology fields). */
export interface TopologyOptions {
  /** This relay's id, unique in the cluster. */
  id: string
  /** URLs (`ws://host:port`) of the peers this relay dials. */
  peers: readonly string[]
  topology: Topology
  /** Star: the hub's id. */
  hub?: string | undefined
  /** Shared secret every relay of the cluster knows. */
  peerSecret?: string | undefined
  maxMessageBytes?: number
  backoff?: BackoffOptions
  random?: () => number
  handshakeTimeoutMs?: number
  /**
   * Rooms with updates a peer has not acknowledged for this long are re-checked with a
   * partial digest (frames lost on a link that stayed up), ms. Default 3000.
   */
  resyncAfterMs?: number
  /**
   * File keeping the rooms changed while links were down across restarts (see
   * {@link DirtyRooms}). Default: `tandem-topology.json` in the relay's LevelDB directory;
   * none (memory only) with memory storage.
   */
  stateFile?: string
  /** Ask the other peers for a missing dependency at most this often per room, ms. Default 250. */
  missingRequestMs?: number
  /** Ask peers for missing dependencies at all (default true; tests of the held path turn it off). */
  askMissing?: boolean
  /**
   * `HOST:PORT` (`--peer-listen`): serve `/_peer` on its own server at that address (TLS with the
   * relay's certificate when it has one) and not on the client port, where it answers 404.
   * Port 0 picks a free one ({@link TopologyNode.peerListenUrl} says which).
   */
  peerListen?: string | undefined
  /** CA certificates (PEM contents of `--peer-ca`) `wss://` peers are verified against; default: the system's CAs. */
  peerCa?: string | Buffer | undefined
  /** Name `wss://` peers' certificates must carry (`--peer-servername`); default: each URL's host. */
  peerServername?: string | undefined
}

/** Below this many bytes the peer secret is reported as guessable (a recorded handshake allows offline guessing). */
export const MIN_SECRET_BYTES = 16
/** Incoming peer sockets allowed to be mid-handshake at once; more are closed with 1013 at once. */
export const MAX_PENDING_HANDSHAKES = 64

export class TopologyNode {
  private readonly links = new Map<string, PeerConnection>()
  private readonly dialers: PeerDialer[]
  private readonly lag = new Map<string, LagTracker>()
  /** Per known peer: rooms changed while the link was down (deletions do not move state vectors). */
  private readonly dirty: DirtyRooms
  /** Per room: when its missing dependencies were last asked for. */
  private readonly askedMissing = new Map<string, number>()
  /** Rooms changed in this process: what a peer seen for the first time may lack. */
  private readonly touched = new Set<string>()
  private readonly successorIds = new Set<string>()
  private readonly connections = new Set<PeerConnection>()
  readonly metrics: PeerMetrics
  private readonly logger: Logger
  private stopped = false
  /** The deny list on the peer links (when the relay has one). */
  private deny: DenyReplication | null = null
  /** The history's version marks on the peer links (when the relay keeps history). */
  private versions: VersionReplication | null = null
  /** The `peers` component of `/health`. */
  private readonly peerHealth: PeerHealth
  /** Delete-set fingerprints of the rooms, for the digest. */
  private readonly fingerprints: DeleteFingerprints
  /** Per connection: its frames being handled (a `synced` waits for the ones before it). */
  private readonly inflight = new Map<PeerConnection, Set<Promise<void>>>()
  private readonly probed = new Map<string, Map<string, number>>()
  private watchdog: NodeJS.Timeout | null = null
  /** The `--peer-listen` server, while started. */
  private listener: PeerListener | null = null

  constructor(private readonly options: TopologyOptions, private readonly ctx: TopologyContext) {
    this.logger = ctx.logger.child({ part: 'topology', relay: options.id })
    this.metrics = createPeerMetrics(ctx.metrics, () => this.lagReport())
    this.peerHealth = new PeerHealth(ctx.health)
    for (const url of options.peers) this.peerHealth.expectUrl(url)
    const dataDir = ctx.config?.storage === 'leveldb' ? ctx.config.data : undefined
    this.dirty = new DirtyRooms(options.stateFile ?? (dataDir ? join(dataDir, 'tandem-topology.json') : undefined), this.logger)
    this.fingerprints = new DeleteFingerprints(dataDir ? join(dataDir, 'tandem-deletes.json') : undefined, this.logger)
    this.dialers = options.peers.map((url) => {
      const dialer: PeerDialer = new PeerDialer(url, {
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        random: options.random ?? Math.random,
        logger: this.logger,
        maxMessageBytes: options.maxMessageBytes ?? 16 * 1024 * 1024,
        tls: { ca: options.peerCa, servername: options.peerServername },
        isUp: (id) => this.links.has(id),
        open: (ws, onClosed) => this.accept(ws, 'out', onClosed, dialer),
      })
      return dialer
    })
  }

  async start(): Promise<void> {
    if (Buffer.byteLength(this.options.peerSecret ?? '') < MIN_SECRET_BYTES) {
      this.logger.warn({ bytes: Buffer.byteLength(this.options.peerSecret ?? ''), recommended: MIN_SECRET_BYTES },
        'the peer secret is short: someone who records a handshake can try to guess it offline; use 32 random bytes (openssl rand -hex 32)')
    }
    if (this.ctx.denyList) {
      this.deny = new DenyReplication(this.ctx.denyList, () => this.links.values(), this.logger,
        (conn, n) => this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n))
    }
    if (this.ctx.versions) {
      this.versions = new VersionReplication(this.ctx.versions, () => this.links.values(), this.logger,
        (conn, n) => this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n))
    }
    await this.servePeerEndpoint()
    for (const d of this.dialers) d.start()
    const every = this.options.resyncAfterMs ?? 3000
    this.watchdog = setInterval(() => this.probeStale(every), Math.max(50, every / 2))
    this.watchdog.unref()
    this.logger.info({ topology: this.options.topology, peers: this.options.peers, hub: this.options.hub }, 'topology started')
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.deny?.stop()
    this.versions?.stop()
    this.peerHealth.stop()
    this.dirty.save()
    // Rooms still loaded are fingerprinted now, so the next start compares them unloaded.
    for (const room of this.ctx.rooms.loaded()) this.onRoomUnloaded(room)
    this.fingerprints.save()
    if (this.watchdog) clearInterval(this.watchdog)
    for (const d of this.dialers) d.stop()
    for (const c of this.connections) c.close(PEER_CLOSE.goingAway, 'relay shutting down')
    await this.listener?.close()
  }

  /**
   * Serves `/_peer`: on the client port, or with `peerListen` on its own listener only (the
   * client port then answers 404 there). Warns once when peer links cross the network in clear.
   */
  private async servePeerEndpoint(): Promise<void> {
    const onSocket = (ws: WebSocket, _req: IncomingMessage): void => { this.accept(ws, 'in') }
    if (this.options.peerListen === undefined) this.ctx.routeUpgrade(PEER_PATH, onSocket)
    else {
      const { host, port } = splitHostPort(this.options.peerListen)
      this.listener = new PeerListener({
        host, port, tls: this.ctx.tls, maxPayload: this.options.maxMessageBytes ?? 16 * 1024 * 1024, logger: this.logger, onSocket,
      })
      await this.listener.listen()
    }
    const exposure = peerExposure({
      peers: this.options.peers,
      acceptsPeers: Boolean(this.options.peerSecret),
      host: this.ctx.config?.host ?? '127.0.0.1',
      peerListen: this.options.peerListen,
      tls: this.ctx.tls !== undefined,
    })
    if (exposure) this.logger.warn({ servedInClear: exposure.servedInClear, dialledInClear: exposure.dialledInClear }, exposure.message)
  }

  /** `ws(s)://HOST:PORT` of the `--peer-listen` listener once started (peers dial it); null without one. */
  get peerListenUrl(): string | null {
    return this.listener?.url ?? null
  }

  /** Ids of peers with an authenticated link now. */
  linkedPeers(): string[] {
    return [...this.links.keys()]
  }

  private accept(
    ws: WebSocket, direction: 'in' | 'out', onClosed?: (c: PeerConnection) => void, dialer?: PeerDialer,
  ): PeerConnection {
    const conn = new PeerConnection(ws, {
      self: this.options.id,
      secret: this.options.peerSecret ?? '',
      direction,
      logger: this.logger,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      onAuthenticated: (c) => {
        dialer?.authenticated(c)
        if (dialer) this.peerHealth.resolved(dialer.url)
        this.authenticated(c)
      },
      onFrame: (c, frame, bytes) => this.receive(c, frame, bytes),
      onClose: (c, code, reason) => {
        this.connections.delete(c)
        this.inflight.delete(c)
        this.closed(c, code, reason)
        onClosed?.(c)
      },
      onRefused: (reason) => this.metrics.refused.inc({ reason }),
    })
    this.connections.add(conn)
    if (this.stopped) conn.close(PEER_CLOSE.goingAway, 'relay shutting down')
    else if (direction === 'in' && this.unauthenticatedIn() > MAX_PENDING_HANDSHAKES) {
      // Strangers holding sockets open until the handshake timeout cannot crowd out real peers for long.
      this.metrics.refused.inc({ reason: 'too many pending handshakes' })
      this.logger.warn({ pending: MAX_PENDING_HANDSHAKES }, 'peer socket refused: too many handshakes pending')
      conn.close(PEER_CLOSE.tryAgainLater, 'too many handshakes pending')
    }
    return conn
  }

  private unauthenticatedIn(): number {
    let n = 0
    for (const c of this.connections) if (c.direction === 'in' && !c.authenticated) n++
    return n
  }

  /** Exactly one link per pair: the one dialled by the smaller id; same dialer → the newer. */
  private keeps(candidate: PeerConnection, existing: PeerConnection): boolean {
    const peer = candidate.peerId as string
    const dialer = (c: PeerConnection): string => (c.direction === 'out' ? this.options.id : peer)
    const preferred = this.options.id < peer ? this.options.id : peer
    if (dialer(candidate) === dialer(existing)) return true
    return dialer(candidate) === preferred
  }

  private authenticated(conn: PeerConnection): void {
    const peer = conn.peerId as string
    if (conn.direction === 'out') this.successorIds.add(peer)
    const existing = this.links.get(peer)
    if (existing && existing !== conn) {
      if (!this.keeps(conn, existing)) {
        conn.close(PEER_CLOSE.duplicate, 'duplicate link')
        return
      }
      this.links.set(peer, conn)
      existing.close(PEER_CLOSE.duplicate, 'duplicate link')
    } else {
      this.links.set(peer, conn)
      this.peerHealth.linked(peer)
      this.metrics.linkUp.set({ peer }, 1)
      this.metrics.linkChanges.inc({ peer, state: 'up' })
      this.logger.info({ peer, direction: conn.direction }, 'peer link up')
    }
    if (!this.lag.has(peer)) this.lag.set(peer, new LagTracker())
    this.dirty.know(peer, this.touched)
    this.deny?.linkUp(conn)
    this.versions?.linkUp(conn)
    void this.sendDigest(conn).catch((err) => this.logger.error({ err, peer }, 'digest failed'))
  }

  private closed(conn: PeerConnection, code: number, reason: string): void {
    const peer = conn.peerId
    if (peer === null || this.links.get(peer) !== conn) return
    this.links.delete(peer)
    this.versions?.linkDown(conn)
    this.peerHealth.down(peer, `link down (${code}${reason ? ` ${reason}` : ''})`)
    this.metrics.linkUp.set({ peer }, 0)
    this.metrics.linkChanges.inc({ peer, state: 'down' })
    this.logger.info({ peer, code, reason }, 'peer link down')
    const lag = this.lag.get(peer)
    if (lag) {
      for (const room of lag.rooms()) this.dirty.mark(peer, room)
      lag.clear()
    }
    for (const d of this.dialers) if (d.knownId === peer) d.wake()
  }

  /** Re-checks rooms whose updates a linked peer has not acknowledged in time. */
  private probeStale(after: number): void {
    const now = Date.now()
    for (const [peer, conn] of this.links) {
      const probed = this.probed.get(peer) ?? new Map<string, number>()
      this.probed.set(peer, probed)
      const rooms = (this.lag.get(peer)?.staleRooms(now - after) ?? [])
        .filter((room) => (probed.get(room) ?? 0) < now - after)
      if (rooms.length === 0) continue
      for (const room of rooms) probed.set(room, now)
      this.logger.info({ peer, rooms: rooms.length }, 'unacknowledged updates: re-checking rooms')
      void this.digest(peer, rooms, DIGEST_FLAG_FORCE | DIGEST_FLAG_REPLY)
        .then((entries) => this.send(conn, { kind: 'digest', complete: false, entries }))
        .catch((err) => this.logger.error({ err, peer }, 'probe failed'))
    }
  }

  private async digest(peer: string, only?: readonly string[], extraFlags = 0): Promise<DigestEntry[]> {
    const loaded = new Map<string, TopologyRoom>()
    for (const room of this.ctx.rooms.loaded()) loaded.set(room.name, room)
    const names = only ? new Set(only) : new Set([...(await this.ctx.storage.listRooms()), ...loaded.keys()])
    const entries: DigestEntry[] = []
    for (const name of names) {
      const room = loaded.get(name)
      const stateVector = room ? room.stateVector() : await this.ctx.storage.getStateVector(name)
      const force = this.dirty.has(peer, name)
      entries.push({
        room: name, stateVector: stateVector ?? new Uint8Array([0]), flags: (force ? DIGEST_FLAG_FORCE : 0) | extraFlags,
        deletes: await this.fingerprintOf(name, room),
      })
    }
    return entries
  }

  /**
   * The room's delete-set fingerprint: cached, else from the live room, else from the room
   * loaded for it (only after an unclean stop, or for a room never fingerprinted here).
   */
  private async fingerprintOf(name: string, loaded: TopologyRoom | undefined): Promise<Uint8Array> {
    const cached = this.fingerprints.get(name)
    if (cached) return cached
    return this.fingerprints.compute(loaded ?? await this.ctx.rooms.get(name))
  }

  private async sendDigest(conn: PeerConnection): Promise<void> {
    const entries = await this.digest(conn.peerId as string)
    this.send(conn, { kind: 'digest', complete: true, entries })
  }

  private send(conn: PeerConnection, frame: PeerFrame): void {
    const n = conn.sendBytes(encodeFrame(frame))
    if (n > 0) this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n)
  }

  private receive(conn: PeerConnection, frame: PeerFrame, bytes: number): void {
    const peer = conn.peerId as string
    this.metrics.bytesReceived.inc({ peer }, bytes)
    let inflight = this.inflight.get(conn)
    if (!inflight) this.inflight.set(conn, inflight = new Set())
    // `synced`: caught up once every frame the peer sent before it is applied.
    const work = frame.kind === 'synced'
      ? Promise.allSettled([...inflight]).then(() => { if (this.links.get(peer) === conn) this.peerHealth.synced(peer) })
      : this.handle(conn, peer, frame)
    const done: Promise<void> = work.catch((err) => {
      this.logger.warn({ err, peer, kind: frame.kind }, 'peer frame failed')
      conn.close(PEER_CLOSE.protocol, 'frame failed')
    }).finally(() => inflight.delete(done))
    inflight.add(done)
  }

  private async handle(conn: PeerConnection, peer: string, frame: PeerFrame): Promise<void> {
    switch (frame.kind) {
      case 'digest': {
        const asked = frame.entries.filter((e) => (e.flags & DIGEST_FLAG_REPLY) !== 0).map((e) => e.room)
        const mine = await this.digest(peer, frame.complete ? undefined : frame.entries.map((e) => e.room))
        if (asked.length > 0) {
          const reply = mine.filter((e) => asked.includes(e.room))
          this.send(conn, { kind: 'digest', complete: false, entries: reply })
          for (const name of asked) await this.sendAck(conn, name, [...this.ctx.rooms.loaded()].find((r) => r.name === name))
        }
        const sends = roomsToSend(mine, frame.entries, frame.complete)
        this.metrics.catchUpRooms.inc({ peer, direction: 'sent' }, sends.length)
        this.logger.info({ peer, rooms: frame.entries.length, sending: sends.length }, 'catch-up')
        for (const s of sends) {
          const room = await this.ctx.rooms.get(s.room)
          const update = room.encodeStateAsUpdate(s.theirStateVector)
          // nothing they lack (no structs, no deletions): no frame, and nothing to wait an ack for
          if (!isNothing(update)) this.sendUpdate(conn, 'sync2', room.name, [this.options.id], update)
          this.dirty.clear(peer, s.room)
        }
        if (frame.complete) this.send(conn, { kind: 'synced' })
        return
      }
      case 'sync1': {
        const room = await this.ctx.rooms.get(frame.room)
        const update = room.encodeStateAsUpdate(frame.stateVector)
        if (!isNothing(update)) this.sendUpdate(conn, 'sync2', room.name, [this.options.id], update)
        return
      }
      case 'sync2':
      case 'update': {
        this.metrics.updatesReceived.inc({ peer })
        if (frame.kind === 'sync2') this.metrics.catchUpRooms.inc({ peer, direction: 'received' })
        const room = await this.ctx.rooms.get(frame.room)
        const changed = room.applyUpdate(frame.update, new PeerOrigin(peer, frame.path.length > 0 ? frame.path : [peer]))
        // Everything in it was here already (a catch-up answered from a digest that was out of
        // date, a delete set sent on a room load): no store follows, so no ack would; the peer
        // would count it unacknowledged until its probe. Acknowledged now with what is stored.
        if (!changed) await this.sendAck(conn, room.name, room)
        if (room.doc?.store.pendingStructs && this.options.askMissing !== false) this.requestMissing(room)
        return
      }
      case 'deny':
        await this.deny?.receive(conn, frame.entries)
        return
      case 'versions':
        await this.versions?.receive(conn, frame.marks)
        return
      case 'versionIndex':
        await this.versions?.receiveIndex(conn, frame.done, frame.entries)
        return
      case 'ack':
        this.lag.get(peer)?.acked(frame.room, frame.stateVector)
        return
      case 'hello':
      case 'auth':
      case 'synced':
        return
    }
  }

  /**
   * The room holds structs whose dependencies have not arrived (pending): ask every linked
   * peer for what the room lacks (sync1 with its state vector) rather than waiting for the
   * link the dependency travels on. At most once per `missingRequestMs` per room.
   */
  private requestMissing(room: TopologyRoom): void {
    const now = Date.now()
    if (now - (this.askedMissing.get(room.name) ?? 0) < (this.options.missingRequestMs ?? 250)) return
    this.askedMissing.set(room.name, now)
    const bytes = encodeFrame({ kind: 'sync1', room: room.name, stateVector: room.stateVector() })
    for (const conn of this.links.values()) {
      const n = conn.sendBytes(bytes)
      if (n === 0) continue
      this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n)
      this.metrics.missingRequests.inc({ peer: conn.peerId as string })
    }
    this.logger.debug({ room: room.name, peers: this.links.size }, 'missing dependency: asked the peers')
  }

  private sendUpdate(conn: PeerConnection, kind: 'sync2' | 'update', room: string, path: string[], update: Uint8Array): void {
    const peer = conn.peerId as string
    const n = conn.sendBytes(encodeFrame({ kind, room, path, update }))
    if (n === 0) return
    this.metrics.bytesSent.inc({ peer }, n)
    this.metrics.updatesSent.inc({ peer })
    this.lag.get(peer)?.sent(room, update, Date.now())
  }

  /**
   * Sends `peer` an ack of what is durably stored of room `name` (`room`: its live copy, when
   * loaded). Nothing stored yet: no ack (the store's own will follow).
   */
  private async sendAck(conn: PeerConnection, name: string, room: TopologyRoom | undefined): Promise<void> {
    const persisted = room?.persistedStateVector?.() ?? await this.ctx.storage.getStateVector(name)
    if (persisted) this.send(conn, { kind: 'ack', room: name, stateVector: persisted })
  }

  /** Relay hook: an update was applied to a room (from a client, the HTTP API or a peer). */
  onUpdate(room: TopologyRoom, update: Uint8Array, origin: unknown): void {
    const source: UpdateSource = origin instanceof PeerOrigin
      ? { kind: 'peer', from: origin.from, path: origin.path }
      : { kind: 'client' }
    this.touched.add(room.name)
    this.fingerprints.invalidate(room.name)
    for (const peer of this.dirty.peers()) if (!this.links.has(peer)) this.dirty.mark(peer, room.name)
    const decision = forwardTargets({
      topology: this.options.topology,
      self: this.options.id,
      hub: this.options.hub,
      linked: [...this.links.keys()],
      successors: [...this.successorIds],
    }, source)
    if (decision.targets.length === 0) return
    const bytes = encodeFrame({ kind: 'update', room: room.name, path: decision.path, update })
    const now = Date.now()
    for (const peer of decision.targets) {
      const conn = this.links.get(peer)
      const n = conn?.sendBytes(bytes) ?? 0
      if (n === 0) continue
      this.metrics.bytesSent.inc({ peer }, n)
      this.metrics.updatesSent.inc({ peer })
      this.lag.get(peer)?.sent(room.name, update, now)
    }
  }

  /** Relay hook: a room was loaded. Exchange with every linked peer, deletions included. */
  onRoomLoaded(room: TopologyRoom): void {
    if (this.links.size === 0) return
    const sv = room.stateVector()
    const sync1 = encodeFrame({ kind: 'sync1', room: room.name, stateVector: sv })
    // Structs the peer lacks it asks for with its own sync1; the delete set travels now.
    const deletes = room.encodeStateAsUpdate(sv)
    for (const conn of this.links.values()) {
      const n = conn.sendBytes(sync1)
      if (n > 0) this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n)
      if (!isNothing(deletes)) this.sendUpdate(conn, 'sync2', room.name, [this.options.id], deletes)
    }
  }

  /** Relay hook: a room is about to be unloaded: fingerprint its deletions while the doc is here. */
  onRoomUnloaded(room: TopologyRoom): void {
    if (!this.fingerprints.get(room.name)) this.fingerprints.compute(room)
  }

  /** Relay hook: a room's updates are on disk up to `persisted`; tell the peers (lag). */
  onStored(room: TopologyRoom, persisted: Uint8Array): void {
    if (this.links.size === 0) return
    const bytes = encodeFrame({ kind: 'ack', room: room.name, stateVector: persisted })
    for (const conn of this.links.values()) {
      const n = conn.sendBytes(bytes)
      if (n > 0) this.metrics.bytesSent.inc({ peer: conn.peerId as string }, n)
    }
  }

  /** Lag per peer, for metrics and tests. */
  lagReport(): Array<{ peer: string; unacked: number; oldestSeconds: number }> {
    const now = Date.now()
    return [...this.lag].map(([peer, l]) => ({ peer, unacked: l.unacked, oldestSeconds: l.oldestAgeMs(now) / 1000 }))
  }
}
