/**
 * Per-peer Prometheus metrics, registered on the relay's prom-client registry.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface PeerMetrics {
  linkUp: Gauge<'peer'>
  linkChanges: Counter<'peer' | 'state'>
  bytesSent: Counter<'peer'>
  bytesReceived: Counter<'peer'>
  updatesSent: Counter<'peer'>
  updatesReceived: Counter<'peer'>
  catchUpRooms: Counter<'peer' | 'direction'>
  unacked: Gauge<'peer'>
  oldestUnackedSeconds: Gauge<'peer'>
  refused: Counter<'reason'>
  missingRequests: Counter<'peer'>
}

/**
 * Creates the metrics on `registry`. `lag` is read at scrape time:
 * peer id → (unacknowledged updates, age of the oldest in seconds).
 */
export function createPeerMetrics(
  registry: Registry,
  lag: () => Iterable<{ peer: string; unacked: number; oldestSeconds: number }>,
): PeerMetrics {
  const registers = [registry]
  const unacked = new Gauge({
    name: 'tandem_peer_unacked_updates',
    help: 'Updates sent to a peer and not yet persisted by it (replication lag)',
    labelNames: ['peer'] as const,
    registers,
    collect() {
      for (const l of lag()) this.set({ peer: l.peer }, l.unacked)
    },
  })
  const oldestUnackedSeconds = new Gauge({
    name: 'tandem_peer_oldest_unacked_seconds',
    help: 'Age of the oldest update sent to a peer and not yet persisted by it',
    labelNames: ['peer'] as const,
    registers,
    collect() {
      for (const l of lag()) this.set({ peer: l.peer }, l.oldestSeconds)
    },
  })
  return {
    unacked,
    oldestUnackedSeconds,
    linkUp: new Gauge({ name: 'tandem_peer_link_up', help: '1 while the link to a peer is authenticated', labelNames: ['peer'], registers }),
    linkChanges: new Counter({ name: 'tandem_peer_link_changes_total', help: 'Peer links going up or down', labelNames: ['peer', 'state'], registers }),
    bytesSent: new Counter({ name: 'tandem_peer_bytes_sent_total', help: 'Bytes sent to a peer', labelNames: ['peer'], registers }),
    bytesReceived: new Counter({ name: 'tandem_peer_bytes_received_total', help: 'Bytes received from a peer', labelNames: ['peer'], registers }),
    updatesSent: new Counter({ name: 'tandem_peer_updates_sent_total', help: 'Updates (live and catch-up) sent to a peer', labelNames: ['peer'], registers }),
    updatesReceived: new Counter({ name: 'tandem_peer_updates_received_total', help: 'Updates (live and catch-up) received from a peer', labelNames: ['peer'], registers }),
    catchUpRooms: new Counter({ name: 'tandem_peer_catchup_rooms_total', help: 'Rooms exchanged by anti-entropy on link up', labelNames: ['peer', 'direction'], registers }),
    missingRequests: new Counter({ name: 'tandem_peer_missing_requests_total', help: 'Requests to a peer for a missing dependency (pending structs)', labelNames: ['peer'], registers }),
    refused: new Counter({ name: 'tandem_peer_refused_total', help: 'Peer connections refused', labelNames: ['reason'], registers }),
  }
}
