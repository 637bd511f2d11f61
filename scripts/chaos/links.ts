/**
 * The campaign's peer links: which relay dials which for a topology, each link through its
 * own link proxy (test/fixtures/link-proxy.ts) so single links can be partitioned, delayed
 * or made to duplicate frames.
 *
 * @module
 */
import { startLinkProxy, type LinkProxy } from '../../test/fixtures/link-proxy.ts'

export type ChaosTopology = 'mesh' | 'star' | 'ring'

/** One peer link: relay `from` dials relay `to` through `proxy`. */
export interface Link {
  name: string
  from: number
  to: number
  proxy: LinkProxy
}

/** The (dialer, target) pairs of a topology over `n` relays; star's hub is relay 0. */
export function edges(topology: ChaosTopology, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i < n; i++) {
    if (topology === 'mesh') for (let j = i + 1; j < n; j++) out.push([i, j])
    else if (topology === 'star') { if (i > 0) out.push([i, 0]) }
    else out.push([i, (i + 1) % n])
  }
  return out
}

/** Starts one proxy per edge towards the relays' ports. */
export async function startLinks(topology: ChaosTopology, ports: readonly number[], ids: readonly string[]): Promise<Link[]> {
  const links: Link[] = []
  for (const [from, to] of edges(topology, ports.length)) {
    const proxy = await startLinkProxy(`ws://127.0.0.1:${ports[to]}`)
    links.push({ name: `${ids[from]}->${ids[to]}`, from, to, proxy })
  }
  return links
}

/** The peer URLs relay `i` dials (its links' proxies). */
export function peerUrls(links: readonly Link[], i: number): string[] {
  return links.filter((l) => l.from === i).map((l) => l.proxy.url)
}

/** Every link back to normal: passing, no delay, no duplicates. */
export function healLink(link: Link): void {
  link.proxy.setMode('pass')
  link.proxy.setDelay(0)
  link.proxy.setDuplicate(false)
}
