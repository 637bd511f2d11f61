/**
 * Whether a relay's peer links cross the network without TLS: `/_peer` served in clear on an
 * address beyond loopback, or a `ws://` peer dialled on a host beyond loopback. A pure
 * decision (no I/O), so every case is unit-tested; the topology logs its answer once at start.
 *
 * @module
 */
import { BlockList, isIP } from 'node:net'

/** What the decision reads: the relay's configuration as given. */
export interface ExposureInput {
  /** Peer URLs this relay dials (`--peers`). */
  peers: readonly string[]
  /** The relay accepts peers (`--peer-secret` set): it serves `/_peer`. */
  acceptsPeers: boolean
  /** Interface of the client port (`--host`). */
  host: string
  /** `--peer-listen HOST:PORT`: `/_peer` is served there and not on the client port. */
  peerListen?: string | undefined
  /** The relay serves TLS (`--tls-cert`/`--tls-key`), on the client port and the peer listener. */
  tls: boolean
}

/** What is exposed, when anything is. */
export interface PeerExposure {
  /** Where `/_peer` is served without TLS beyond loopback (`client port on HOST` or `--peer-listen HOST:PORT`). */
  servedInClear: string | null
  /** `ws://` peer URLs whose host is not loopback. */
  dialledInClear: string[]
  /** The warning, one line: what is exposed and what to do. */
  message: string
}

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

/** True for `localhost`, 127.0.0.0/8, `::1` and IPv4-mapped loopback (`::ffff:127.0.0.1`); brackets allowed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  const family = isIP(h)
  if (family === 4) return loopback.check(h, 'ipv4')
  if (family === 6) return loopback.check(h, 'ipv6')
  return false
}

/** The part of `HOST:PORT` before the port (brackets of an IPv6 host removed). */
function hostOf(hostPort: string): string {
  return hostPort.slice(0, hostPort.lastIndexOf(':'))
}

/**
 * Decides whether the relay's peer links are exposed without TLS; null when they are not
 * (TLS, loopback only, or no peer links at all).
 */
export function peerExposure(input: ExposureInput): PeerExposure | null {
  const serves = input.acceptsPeers || input.peers.length > 0
  let servedInClear: string | null = null
  if (serves && !input.tls) {
    if (input.peerListen === undefined) {
      if (!isLoopbackHost(input.host)) servedInClear = `client port on ${input.host}`
    } else if (!isLoopbackHost(hostOf(input.peerListen))) {
      servedInClear = `--peer-listen ${input.peerListen}`
    }
  }
  const dialledInClear = input.peers.filter((url) => {
    if (!URL.canParse(url)) return false
    const u = new URL(url)
    return u.protocol === 'ws:' && !isLoopbackHost(u.hostname)
  })
  if (servedInClear === null && dialledInClear.length === 0) return null
  const what: string[] = []
  if (servedInClear !== null) what.push(`/_peer is served without TLS (${servedInClear})`)
  if (dialledInClear.length > 0) what.push(`peers are dialled over ws:// (${dialledInClear.join(', ')})`)
  const clientPort = servedInClear !== null && input.peerListen === undefined
    ? '; the client port itself is plain http/ws, so clients\' room names, tokens and updates cross it in clear'
    : ''
  const message = `peer links cross the network without TLS: ${what.join('; ')}. ` +
    'Peer frames are sealed (AES-GCM, keys from the peer handshake), so room contents cannot be read or forged on the path, ' +
    `but an observer sees the relay ids in the handshake, which relays link, and the size and timing of every frame (room activity)${clientPort}. ` +
    'Use --tls-cert/--tls-key with wss:// peers (--peer-ca), --peer-listen on a private interface, or a TLS proxy in front'
  return { servedInClear, dialledInClear, message }
}
