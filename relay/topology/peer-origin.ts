/**
 * The `origin` passed to `Room.applyUpdate` for updates that came from a peer relay, so
 * the forwarding policy can tell peer traffic from the relay's own clients' updates.
 *
 * @module
 */
export class PeerOrigin {
  constructor(
    /** Id of the peer the update arrived from. */
    readonly from: string,
    /** Relays the update passed, oldest first (includes `from`). */
    readonly path: readonly string[],
  ) {}
}
