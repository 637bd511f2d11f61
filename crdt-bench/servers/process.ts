/**
 * Server processes for `bench:relay`: tandem runs as `npm start` runs it (`npm run build`, then
 * `node dist/relay/cli.js`); the other servers are bundled with esbuild into plain JavaScript
 * (packages left external, so every server runs the same node_modules and none pays for a
 * TypeScript loader at run time). Each is started as its own `node` process, so that the CPU
 * time and resident memory read from `/proc/<pid>` are that server's alone.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Inside the repo so the bundles resolve the repo's node_modules. */
const OUT = join(ROOT, 'node_modules/.cache/tandem-bench')
const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

/** tandem's compiled entry point (what `npm start` runs). */
export const TANDEM_CLI = join(ROOT, 'dist/relay/cli.js')

/**
 * The node flags `npm start` puts before `dist/relay/cli.js`, read from package.json, so the
 * benchmarks run tandem exactly as `npm start` does.
 */
export function tandemNodeFlags(): string[] {
  const words = startWords()
  return words.slice(words.indexOf('node') + 1, words.indexOf('dist/relay/cli.js')).filter((w) => w.startsWith('--'))
}

/** The environment `npm start` sets for node (its leading `NAME=value` words). */
export function tandemNodeEnv(): Record<string, string> {
  const words = startWords()
  return Object.fromEntries(words.slice(0, words.indexOf('node')).filter((w) => /^\w+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]))
}

function startWords(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  return pkg.scripts.start.split(/\s+/)
}

/**
 * Builds tandem (`npm run build`, incremental) and bundles the other servers' entry points;
 * returns the directory holding their `<name>.js` files.
 */
export async function bundleServers(): Promise<string> {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  if (built.status !== 0) throw new Error(`npm run build failed with ${built.status}`)
  mkdirSync(OUT, { recursive: true })
  await build({
    entryPoints: {
      'peer-server': join(ROOT, 'crdt-bench/servers/peer-server.ts'),
      forwarder: join(ROOT, 'crdt-bench/servers/forwarder.ts'),
    },
    outdir: OUT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  })
  return OUT
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** A started server process. */
export interface ServerProcess {
  pid: number
  port: number
  child: ChildProcess
  /** User + system CPU seconds the process used so far. */
  cpuSeconds(): number
  /** The same for its main thread alone (the event loop; the rest is storage, GC and compiler threads). */
  mainThreadCpuSeconds(): number
  /** Write-class system calls (write, writev, …) the process made so far (`syscw` of `/proc/<pid>/io`). */
  writeSyscalls(): number
  /** Resident memory now, MiB (VmRSS of the process itself). */
  rssMiB(): number
  /** Peak resident memory so far, MiB (VmHWM). */
  peakRssMiB(): number
  stop(): Promise<void>
}

/** Resolves once the port accepts TCP connections; rejects when the process exits first. */
async function waitForPort(port: number, child: ChildProcess, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 100)) // polling a port that is not yet open
  }
  throw new Error(`server on ${port} did not listen within ${deadlineMs} ms`)
}

function status(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) / 1024
}

/** User + system CPU seconds from a `/proc` stat file (a process's, or one thread's under `task/`). */
function cpuSecondsOf(statFile: string): number {
  // Fields after the command name: utime is the 14th field, stime the 15th.
  const stat = readFileSync(statFile, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** Servers started and not yet exited: killed if the benchmark itself dies. */
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Starts `node ...nodeArgs <script> ...args` and waits until it listens on `port`. */
export async function startServer(script: string, args: string[], port: number, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } })
  const pid = child.pid!
  running.add(child)
  child.once('exit', () => running.delete(child))
  try {
    await waitForPort(port, child)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return {
    pid,
    port,
    child,
    cpuSeconds: () => cpuSecondsOf(`/proc/${pid}/stat`),
    mainThreadCpuSeconds: () => cpuSecondsOf(`/proc/${pid}/task/${pid}/stat`),
    writeSyscalls: () => Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN),
    rssMiB: () => status(pid, 'VmRSS'),
    peakRssMiB: () => status(pid, 'VmHWM'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
