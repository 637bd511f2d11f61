/**
 * The start-up warning about peer links in clear, through the real CLI: a relay with a peer
 * secret bound to 0.0.0.0 without TLS logs it exactly once; the same relay with
 * `--peer-listen 127.0.0.1:0`, or with `--tls-cert/--tls-key`, does not. Relays bind 0.0.0.0
 * but every request goes to 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { makeTestCerts, type TestCerts } from './certs.ts'
import { httpsGet, tryUpgrade, until } from './secure-member.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const WARNING = /peer links cross the network without TLS/

interface Cli { child: ChildProcess; port: number; output: () => string; lines: () => Array<Record<string, unknown>>; stop(): Promise<void> }

/** Starts `relay/cli.ts` with `args` on port 0 and waits for its "listening" line. */
async function startCli(args: string[]): Promise<Cli> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/cli.ts', '--port', '0', '--storage', 'memory', '--log-format', 'json', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TANDEM_PEER_SECRET: 'a-peer-secret-of-32-bytes-length' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let port = 0
  await until('relay listening', () => {
    if (child.exitCode !== null) throw new Error(`relay exited: ${out}`)
    const m = /tandem relay listening on https?:\/\/[^:]+:(\d+)/.exec(out)
    if (m) port = Number(m[1])
    return port > 0
  }, 30_000)
  return {
    child, port, output: () => out,
    lines: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

let certs: TestCerts
beforeAll(() => { certs = makeTestCerts() })
afterAll(() => certs.remove())

describe('start-up warning about peer links in clear (real CLI)', () => {
  it('0.0.0.0 without TLS warns once; with --peer-listen on loopback or with TLS it does not', async () => {
    const [open, listen, tls] = await Promise.all([
      startCli(['--host', '0.0.0.0', '--id', 'open']),
      startCli(['--host', '0.0.0.0', '--id', 'listen', '--peer-listen', '127.0.0.1:0']),
      startCli(['--host', '0.0.0.0', '--id', 'tls', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]),
    ])
    try {
      // Each answers on loopback, so the relay really started with its settings.
      expect((await fetch(`http://127.0.0.1:${open.port}/health`)).status).toBe(200)
      expect((await httpsGet(`https://127.0.0.1:${tls.port}/health`, certs.ca)).status).toBe(200)

      const warned = open.lines().filter((l) => WARNING.test(String(l.msg)))
      expect(warned).toHaveLength(1)
      expect(warned[0]?.level).toBe(40)
      expect(warned[0]?.servedInClear).toBe('client port on 0.0.0.0')
      expect(open.output().match(new RegExp(WARNING.source, 'g'))).toHaveLength(1)

      expect(listen.output()).not.toMatch(WARNING)
      expect(tls.output()).not.toMatch(WARNING)

      // --peer-listen reached the topology through the CLI: /_peer moved off the client port.
      const ready = listen.lines().find((l) => l.msg === 'peer listener ready')
      expect(ready?.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
      expect(await tryUpgrade(`ws://127.0.0.1:${listen.port}/_peer`)).toEqual({ outcome: 'refused', status: 404 })
      expect(await tryUpgrade(`${String(ready?.url)}/_peer`)).toEqual({ outcome: 'open' })
    } finally {
      await Promise.all([open.stop(), listen.stop(), tls.stop()])
    }
  }, 90_000)
})
