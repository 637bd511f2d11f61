/**
 * Throwaway certificates for TLS tests, made with `openssl` in a temp dir: a CA, a server
 * certificate it signs for `127.0.0.1`/`localhost` (SAN IP:127.0.0.1, DNS:localhost), and a
 * second, unrelated CA that verifies nothing of the first. P-256 keys, valid for one day.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCerts {
  dir: string
  /** CA certificate file that signed the server certificate. */
  caFile: string
  /** The server's certificate file (SAN IP:127.0.0.1, DNS:localhost) and its key file. */
  certFile: string
  keyFile: string
  /** Another CA's certificate file: the server certificate does not verify against it. */
  otherCaFile: string
  /** A key file that does not match `certFile` (the other CA's key). */
  otherKeyFile: string
  ca: Buffer
  otherCa: Buffer
  remove(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=tandem test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
}

/** Makes the CA, the server certificate and the unrelated CA (about 100 ms). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'))
  makeCa(dir, 'ca')
  makeCa(dir, 'other-ca')
  openssl(dir, ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'])
  writeFileSync(join(dir, 'server.ext'), [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n')
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '1', '-extfile', 'server.ext'])
  const caFile = join(dir, 'ca.pem')
  const otherCaFile = join(dir, 'other-ca.pem')
  return {
    dir,
    caFile,
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    otherCaFile,
    otherKeyFile: join(dir, 'other-ca.key'),
    ca: readFileSync(caFile),
    otherCa: readFileSync(otherCaFile),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
