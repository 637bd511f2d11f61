/**
 * Multi-leader relays: peer links between relays in a mesh, star or ring, with
 * anti-entropy catch-up after any partition. Plugged into the relay as an extension.
 *
 * @module
 */
import { ConfigError } from '../config/config.ts'
import { TopologyNode, type TopologyOptions } from './topology-node.ts'
import type { TopologyContext, TopologyRoom } from './relay-surface.ts'

export { TopologyNode, type TopologyOptions } from './topology-node.ts'
export { forwardTargets, parseTopology, type Topology, type UpdateSource, type PolicyView, type ForwardDecision } from './policy.ts'
export { PeerOrigin } from './peer-origin.ts'
export { PEER_PATH, peerEndpoint, type PeerTlsOptions } from './peer-link.ts'
export { PeerListener, type PeerListenerOptions } from './peer-listener.ts'
export { peerExposure, isLoopbackHost, type ExposureInput, type PeerExposure } from './peer-exposure.ts'
export { PEER_CLOSE, PeerProtocolError, decodeFrame, encodeFrame, type PeerFrame } from './peer-protocol.ts'
export type { TopologyContext, TopologyRoom, TopologyRooms, TopologyStorage } from './relay-surface.ts'

/** The relay extension of the topology part; `node` is set once the relay started it. */
export interface TopologyExtension {
  name: 'topology'
  node: TopologyNode | null
  onStart(ctx: TopologyContext): Promise<void>
  onRoomLoaded(room: TopologyRoom): void
  onUpdate(room: TopologyRoom, update: Uint8Array, origin: unknown): void
  onStored(room: TopologyRoom, persistedStateVector: Uint8Array): void
  onRoomUnloaded(room: TopologyRoom): void
  onStop(): Promise<void>
}

/**
 * Creates the topology extension for a relay: dials `options.peers`, accepts peers on
 * `/_peer`, forwards updates by the topology's policy and catches up on every link up.
 */
export function topologyExtension(options: TopologyOptions): TopologyExtension {
  if (options.topology === 'star' && !options.hub) throw new ConfigError("--topology star needs --hub (the hub relay's id)")
  if (!options.id) throw new ConfigError('topology needs a relay id (--id)')
  // An empty secret would link with any relay that also has none: refuse rather than run unauthenticated.
  if (!options.peerSecret) throw new ConfigError('peer links need a peer secret (--peer-secret or TANDEM_PEER_SECRET)')
  const ext: TopologyExtension = {
    name: 'topology',
    node: null,
    async onStart(ctx) {
      ext.node = new TopologyNode(options, ctx)
      await ext.node.start()
    },
    onRoomLoaded(room) { ext.node?.onRoomLoaded(room) },
    onUpdate(room, update, origin) { ext.node?.onUpdate(room, update, origin) },
    onStored(room, sv) { ext.node?.onStored(room, sv) },
    onRoomUnloaded(room) { ext.node?.onRoomUnloaded(room) },
    async onStop() { await ext.node?.stop() },
  }
  return ext
}
