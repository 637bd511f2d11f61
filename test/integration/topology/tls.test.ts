/**
 * TLS on real sockets: a relay that serves https:// and wss:// itself (--tls-cert/--tls-key),
 * peers that dial wss:// and verify the certificate (--peer-ca, --peer-servername), and the
 * links that must never come up: a certificate from another CA, a name it does not carry, no
 * CA given at all (the system's CAs do not know a throwaway one).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRelay } from '../../../relay/server/server.ts'
import { ConfigError } from '../../../relay/config/config.ts'
import { keysOf, synced, type Client } from './cluster.ts'
import { makeTestCerts, type TestCerts } from './certs.ts'
import { httpsGet, secureClient, startSecureMember, tryUpgrade, until, type SecureMember } from './secure-member.ts'

let certs: TestCerts
let members: SecureMember[] = []
let clients: Client[] = []

beforeAll(() => { certs = makeTestCerts() })
afterAll(() => certs.remove())
afterEach(async () => {
  for (const c of clients) c.destroy()
  for (const m of members) await m.stop()
  members = []
  clients = []
})

async function member(o: Parameters<typeof startSecureMember>[0]): Promise<SecureMember> {
  const m = await startSecureMember(o)
  members.push(m)
  return m
}

const tls = (): { certFile: string; keyFile: string } => ({ certFile: certs.certFile, keyFile: certs.keyFile })

describe('a relay serves TLS itself', () => {
  it('answers https:// with the certificate (verified against the CA) and not plain http', async () => {
    const a = await member({ id: 'a', tls: tls() })
    expect(a.relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/)
    expect(a.relay.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const health = await httpsGet(`${a.relay.httpUrl}/health`, certs.ca)
    expect(health.status).toBe(200)
    // The same port spoken to in plain HTTP does not answer as HTTP.
    await expect(fetch(`http://127.0.0.1:${a.relay.port}/health`)).rejects.toThrow()
    // A client that trusts only the other CA refuses the relay.
    await expect(httpsGet(`${a.relay.httpUrl}/health`, certs.otherCa)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i)
  })

  it('a missing or mismatched certificate or key is a startup error naming the flag', async () => {
    const missing = createRelay({ host: '127.0.0.1', port: 0, storage: 'memory', logLevel: 'silent', tlsCert: `${certs.dir}/nope.pem`, tlsKey: certs.keyFile })
    await expect(missing).rejects.toThrow(ConfigError)
    await expect(missing).rejects.toThrow(/--tls-cert .*nope\.pem: cannot read it \(ENOENT\)/)
    const mismatched = createRelay({ host: '127.0.0.1', port: 0, storage: 'memory', logLevel: 'silent', tlsCert: certs.certFile, tlsKey: certs.otherKeyFile })
    await expect(mismatched).rejects.toThrow(/--tls-cert\/--tls-key: .*key values mismatch/)
    const notPem = createRelay({ host: '127.0.0.1', port: 0, storage: 'memory', logLevel: 'silent', tlsCert: `${certs.dir}/server.ext`, tlsKey: certs.keyFile })
    await expect(notPem).rejects.toThrow(/--tls-cert .*server\.ext: not a PEM file/)
  })
})

describe('peers over wss://', () => {
  it('a relay dialling a TLS relay with --peer-ca links, and a write on one reaches a wss:// client of the other', async () => {
    const a = await member({ id: 'a', tls: tls() })
    // b also serves TLS; it dials a by name (localhost) with the URL's host as IP: servername is what is checked.
    const b = await member({ id: 'b', tls: tls(), peers: [a.relay.url], peerCa: certs.ca, peerServername: 'localhost' })
    await until('a and b linked', () => a.linked().includes('b') && b.linked().includes('a'))
    const ca = secureClient(a.relay.url, 'tls-room', certs.ca)
    const cb = secureClient(b.relay.url, 'tls-room', certs.ca)
    clients.push(ca, cb)
    await Promise.all([synced(ca), synced(cb)])
    ca.doc.getMap('m').set('from-a', 1)
    cb.doc.getMap('m').set('from-b', 2)
    await until('both clients hold both writes', () => keysOf(ca.doc).length === 2 && keysOf(cb.doc).length === 2)
    expect(keysOf(cb.doc)).toEqual(['from-a', 'from-b'])
    expect(b.logged(/did not verify/)).toHaveLength(0)
  })

  it('a client upgrade to a TLS relay fails without the CA: the relay\'s certificate is checked by clients too', async () => {
    const a = await member({ id: 'a', tls: tls() })
    const refused = await tryUpgrade(`${a.relay.url}/room`)
    expect(refused.outcome).toBe('error')
    expect(await tryUpgrade(`${a.relay.url}/room`, { ca: certs.ca })).toEqual({ outcome: 'open' })
  })

  it('a wss:// URL for a relay that speaks plain ws never links, and says TLS failed', async () => {
    const a = await member({ id: 'a' })
    const b = await member({ id: 'b', peers: [a.relay.url.replace(/^ws:/, 'wss:')], peerCa: certs.ca })
    await until('b failed the TLS handshake several times', () => {
      if (b.linked().length > 0) throw new Error('b linked to a')
      return b.logged(/peer TLS verification failed again/).length >= 3
    })
    expect(b.logged(/TLS with the peer did not verify/)).toHaveLength(1)
    expect(a.linked()).toEqual([])
  })

  // Each dialer retries with backoff; the test waits for repeated failures (not for time) and
  // then checks that no link exists on either side.
  const NEVER: Array<{ name: string; dialer: (url: string) => Parameters<typeof startSecureMember>[0]; error: RegExp }> = [
    { name: 'a certificate signed by another CA', dialer: (url) => ({ id: 'b', peers: [url], peerCa: certs.otherCa }), error: /self[- ]signed|unable to verify/i },
    { name: 'a --peer-servername the certificate does not carry', dialer: (url) => ({ id: 'b', peers: [url], peerCa: certs.ca, peerServername: 'relay.example' }), error: /altnames|relay\.example/i },
    { name: 'no --peer-ca (the system CAs do not know the throwaway CA)', dialer: (url) => ({ id: 'b', peers: [url] }), error: /unable to verify|self[- ]signed/i },
  ]
  for (const c of NEVER) {
    it(`never links to ${c.name}, and logs the TLS error once`, async () => {
      const a = await member({ id: 'a', tls: tls() })
      const b = await member(c.dialer(a.relay.url))
      await until('b failed to verify a several times', () => {
        if (b.linked().length > 0) throw new Error('b linked to a')
        return b.logged(/peer TLS verification failed again/).length >= 3
      })
      const warned = b.logged(/did not verify/)
      expect(warned).toHaveLength(1)
      expect(String(warned[0]?.err)).toMatch(c.error)
      expect(warned[0]?.url).toBe(a.relay.url)
      expect(b.linked()).toEqual([])
      expect(a.linked()).toEqual([])
      expect(a.logged(/peer link up/)).toHaveLength(0)
    })
  }
})
