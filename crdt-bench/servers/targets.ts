/**
 * The servers `bench:relay` and its large-document and replay modules measure, and how one is
 * started for a measurement (its own process, a temp data dir, stopped afterwards).
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Dialect } from './bench-client.ts'
import { TANDEM_CLI, freePort, startServer, tandemNodeEnv, tandemNodeFlags, type ServerProcess } from './process.ts'

/** A server under test. */
export interface Target {
  name: string
  dialect: Dialect
  /** Script (in the bundle dir) and its arguments. */
  command: (bundle: string, port: number, dataDir: string) => [string, string[]]
  /** Flags for `node` itself and its environment (tandem: those of `npm start`). */
  nodeFlags?: string[]
  env?: Record<string, string>
}

/**
 * The load comes from one address (loopback) and uploads whole large documents. Loopback is
 * limited per IP by default (issue 21), so it is exempted here explicitly, as the README's
 * figures were measured (no per-IP bookkeeping; the other servers have none); the per-IP limits
 * are raised as well, and the message size and rates past what the benchmark needs.
 */
const LOAD_LIMITS = ['--per-ip-exempt', '127.0.0.1,::1,::ffff:127.0.0.1', '--max-connections-per-ip', '100000', '--max-rooms-per-minute', '1000000', '--max-message-bytes', String(256 * 1024 * 1024), '--max-bytes-per-second', String(1024 * 1024 * 1024), '--max-messages-per-second', '1000000']

const tandem = (extra: (d: string) => string[]) => (_b: string, p: number, d: string): [string, string[]] =>
  [TANDEM_CLI, ['--port', String(p), '--log-level', 'warn', '--static', join(d, 'no-static'), ...LOAD_LIMITS, ...extra(d)]]

/** tandem (LevelDB) first: the base of every ratio. */
export const TARGETS: Target[] = [
  { name: 'tandem (LevelDB)', dialect: 'y-websocket', command: tandem((d) => ['--data', d]), nodeFlags: tandemNodeFlags(), env: tandemNodeEnv() },
  { name: 'tandem (LevelDB, no fsync)', dialect: 'y-websocket', command: tandem((d) => ['--data', d, '--durability', 'process']), nodeFlags: tandemNodeFlags(), env: tandemNodeEnv() },
  { name: 'tandem (memory)', dialect: 'y-websocket', command: tandem(() => ['--storage', 'memory']), nodeFlags: tandemNodeFlags(), env: tandemNodeEnv() },
  { name: 'y-websocket 1.5.4', dialect: 'y-websocket', command: (b, p) => [join(b, 'peer-server.js'), ['classic', String(p)]] },
  { name: 'hocuspocus 3', dialect: 'hocuspocus', command: (b, p) => [join(b, 'peer-server.js'), ['hocuspocus', String(p)]] },
  { name: 'forwarder', dialect: 'y-websocket', command: (b, p) => [join(b, 'forwarder.js'), [String(p)]] },
]

/** The targets whose name starts with one of the comma-separated `only` prefixes (all when undefined). */
export function selectTargets(only: string | undefined, from: Target[] = TARGETS): Target[] {
  return from.filter((t) => !only || only.split(',').some((o) => t.name.startsWith(o)))
}

/** Starts `target`, runs `run` against it, stops it and removes its data dir. */
export async function withServer<T>(bundle: string, target: Target, run: (url: string, server: ServerProcess) => Promise<T>, nodeArgs: string[] = []): Promise<T> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-'))
  const [script, args] = target.command(bundle, port, dataDir)
  const server = await startServer(script, args, port, [...(target.nodeFlags ?? []), ...nodeArgs], target.env)
  try {
    return await run(`ws://127.0.0.1:${port}`, server)
  } finally {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The value after `flag` on the command line. */
export function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag)
  return i >= 0 ? process.argv[i + 1] : undefined
}
