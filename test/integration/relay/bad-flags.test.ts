/**
 * Bad flags and flag combinations: the real CLI exits non-zero with exactly one line on
 * stderr (a ConfigError message), never a stack trace, and never starts listening.
 */
import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

interface Run { code: number | null; stdout: string; stderr: string }

function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'relay/cli.ts', '--port', '0', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    // A combination that slipped through starts a relay: kill it once it says so, and fail below.
    // The timer only bounds a CLI that neither exits nor listens (a start under load is slow).
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
      if (/listening/.test(stdout)) child.kill('SIGKILL')
    })
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

const SECRET = { TANDEM_PEER_SECRET: 's3cret' }

const CASES: Array<{ name: string; args: string[]; env?: Record<string, string>; match: RegExp }> = [
  { name: 'star without a hub', args: ['--topology', 'star', '--peers', 'ws://127.0.0.1:9'], env: SECRET, match: /--topology star needs --hub/ },
  { name: 'star spoke without peers', args: ['--topology', 'star', '--hub', 'h', '--id', 'spoke'], env: SECRET, match: /spoke and needs --peers/ },
  { name: 'ring without peers', args: ['--topology', 'ring', '--id', 'r1'], env: SECRET, match: /ring needs --peers/ },
  { name: 'peers without a secret', args: ['--peers', 'ws://127.0.0.1:9'], match: /need --peer-secret/ },
  { name: 'unknown flag', args: ['--nope'], match: /Unknown option '--nope'/ },
  { name: 'positional argument', args: ['extra'], match: /Unexpected argument 'extra'/ },
  { name: 'flag without its value', args: ['--flush-ms'], match: /--flush-ms/ },
  { name: 'port out of range', args: ['--port', '70000'], match: /--port must be an integer from 0 to 65535/ },
  { name: 'negative idle', args: ['--idle-ms=-5'], match: /--idle-ms must be an integer/ },
  { name: 'empty number', args: ['--max-message-bytes', ''], match: /--max-message-bytes must be an integer/ },
  { name: 'bad storage', args: ['--storage', 'redis'], match: /--storage must be one of leveldb, memory/ },
  { name: 'bad topology', args: ['--topology', 'tree'], match: /--topology must be one of/ },
  { name: 'bad log level', args: ['--log-level', 'loud'], match: /--log-level must be one of/ },
  { name: 'bad peer URL', args: ['--peers', 'http://x'], env: SECRET, match: /ws:\/\/ or wss:\/\// },
  { name: 'the same peer twice', args: ['--peers', 'ws://a:1,ws://a:1'], env: SECRET, match: /twice/ },
  { name: 'empty id', args: ['--id', ''], match: /--id must not be empty/ },
  { name: 'fault storage on memory', args: ['--storage', 'memory', '--fault-storage', '/tmp/x'], match: /--fault-storage needs --storage leveldb/ },
  { name: 'bad env value', args: [], env: { TANDEM_FLUSH_MS: 'soon' }, match: /--flush-ms must be an integer/ },
  { name: '--tls-cert without --tls-key', args: ['--tls-cert', 'package.json'], match: /--tls-cert and --tls-key go together/ },
  { name: '--peer-listen without a port', args: ['--peer-listen', '127.0.0.1'], env: SECRET, match: /--peer-listen must be HOST:PORT/ },
  { name: '--peer-listen port out of range', args: ['--peer-listen', '127.0.0.1:70000'], env: SECRET, match: /--peer-listen must be HOST:PORT/ },
  { name: '--peer-listen without a peer secret', args: ['--peer-listen', '127.0.0.1:0'], match: /--peer-listen needs --peer-secret/ },
  { name: 'a --tls-cert file that does not exist', args: ['--storage', 'memory', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], match: /--tls-cert \/nonexistent\/cert\.pem: cannot read it \(ENOENT\)/ },
  { name: 'a --tls-cert that is not PEM', args: ['--storage', 'memory', '--tls-cert', 'test/integration/relay/bad-flags.test.ts', '--tls-key', 'package.json'], match: /--tls-cert .*bad-flags\.test\.ts: not a PEM file/ },
  { name: 'a mistyped --redis URL does not echo its password', args: ['--redis', 'http://alice:hunter2@127.0.0.1:6379'], match: /--redis must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/\*\*\*@127\.0\.0\.1:6379"/ },
  { name: 'a --peer-ca file that does not exist', args: ['--storage', 'memory', '--peer-ca', '/nonexistent/ca.pem'], env: SECRET, match: /--peer-ca \/nonexistent\/ca\.pem: cannot read it \(ENOENT\)/ },
]

describe('bad flag combinations fail with one clear line', () => {
  // Two at a time: each case is a real process start.
  for (let i = 0; i < CASES.length; i += 2) {
    const pair = CASES.slice(i, i + 2)
    it(pair.map((c) => c.name).join(' / '), async () => {
      const runs = await Promise.all(pair.map((c) => runCli(c.args, c.env)))
      for (const [j, run] of runs.entries()) {
        const c = pair[j]!
        expect(run.code, `${c.name}: exit code (stderr: ${run.stderr})`).toBe(2)
        const lines = run.stderr.split('\n').filter((l) => l.length > 0)
        expect(lines, `${c.name}: stderr`).toHaveLength(1)
        expect(lines[0]).toMatch(/^tandem relay: /)
        expect(lines[0]).toMatch(c.match)
        expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/)
        expect(run.stdout).not.toMatch(/listening/)
      }
    }, 60_000)
  }

  it('--help still prints the help and exits 0', async () => {
    const run = await runCli(['--help', '--topology', 'star'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('--fault-storage')
    expect(run.stderr).toBe('')
  }, 60_000)
})
