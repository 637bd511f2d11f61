/**
 * A plain TCP proxy on loopback, one per relay between it and Redis (the relay's `--redis`
 * names the proxy), so the campaign can cut that relay's link to Redis, slow it, or stall it
 * silently — the link faults that make sense without peer links. Bytes are forwarded as they
 * come (no protocol parsing); order is kept per direction under delays and stalls.
 *
 * @module
 */
import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** `pass`; `refuse`: open connections reset and new ones closed at once; `stall`: bytes held silently (no RST) until the mode changes. */
export type TcpProxyMode = 'pass' | 'refuse' | 'stall'

export interface TcpProxy {
  readonly port: number
  /** `redis://127.0.0.1:PORT`, for a relay's `--redis`. */
  readonly url: string
  setMode(mode: TcpProxyMode): void
  /** Delays every chunk by `ms` in both directions (order kept). */
  setDelay(ms: number): void
  /** Connections currently open through the proxy. */
  openLinks(): number
  /** Connections accepted so far (refused ones included). */
  readonly accepted: number
  close(): Promise<void>
}

/** Starts a TCP proxy on a random loopback port forwarding to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: TcpProxyMode = 'pass'
  let delay = 0
  let accepted = 0
  const pairs = new Set<{ a: Socket; b: Socket }>()
  /** Chunks held while stalled, released in order when the stall ends. */
  const stalled: Array<() => void> = []

  const forward = (from: Socket, to: Socket): void => {
    // One chain per direction keeps order across delays and stalls.
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      chain = chain.then(() => new Promise<void>((resolve) => {
        const send = (): void => {
          if (!to.destroyed) to.write(chunk)
          resolve()
        }
        const go = (): void => (mode === 'stall' ? void stalled.push(go) : send())
        if (delay > 0) setTimeout(go, delay)
        else go()
      }))
    })
  }

  const server = createServer((a) => {
    accepted++
    if (mode === 'refuse') {
      a.resetAndDestroy()
      return
    }
    const b = connect(targetPort, '127.0.0.1')
    const pair = { a, b }
    pairs.add(pair)
    forward(a, b)
    forward(b, a)
    const end = (): void => {
      pairs.delete(pair)
      a.destroy()
      b.destroy()
    }
    for (const s of [a, b]) {
      s.on('error', end)
      s.on('close', end)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  const cut = (): void => {
    for (const { a, b } of pairs) {
      a.resetAndDestroy()
      b.resetAndDestroy()
    }
    pairs.clear()
  }
  const release = (): void => {
    for (const fn of stalled.splice(0)) fn()
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    setMode(m) {
      mode = m
      if (m === 'refuse') cut()
      if (m !== 'stall') release()
    },
    setDelay(ms) { delay = ms },
    openLinks: () => pairs.size,
    get accepted() { return accepted },
    async close() {
      cut()
      stalled.length = 0
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
