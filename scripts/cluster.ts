/**
 * Starts a local cluster of relays for a person to try: `npm run cluster -- --relays 3 --topology mesh`,
 * or relays that share rooms through Redis: `npm run cluster -- --relays 3 --redis redis://127.0.0.1:6379`
 * (no peer list; when nothing answers at a loopback URL, a redis-server without persistence is
 * started for the cluster and stopped with it).
 *
 * Relays listen on consecutive ports from --base-port (default 1234), are called relay-0..N-1,
 * store in --data/relay-i (default ./data/cluster), share a fresh random peer secret, and
 * are wired as the topology says: mesh (everyone dials everyone), star (spokes dial the hub,
 * relay-0), ring (relay-i dials relay-i+1). Each serves the demo page. Ctrl-C stops them all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { join } from 'node:path'

const { values } = parseArgs({
  options: {
    relays: { type: 'string', default: '3' },
    topology: { type: 'string', default: 'mesh' },
    'base-port': { type: 'string', default: '1234' },
    host: { type: 'string', default: '127.0.0.1' },
    data: { type: 'string', default: './data/cluster' },
    'peer-secret': { type: 'string' },
    redis: { type: 'string' },
    cli: { type: 'string', default: 'relay/cli.ts' },
    help: { type: 'boolean', default: false },
  },
})

if (values.help) {
  process.stdout.write(`npm run cluster -- [--relays N] [--topology mesh|star|ring] [--base-port 1234] [--host 127.0.0.1] [--data ./data/cluster] [--peer-secret S] [--redis redis://HOST:PORT] [--cli relay/cli.ts]\n`)
  process.exit(0)
}

const n = Number(values.relays)
const topology = values.topology
if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error('--relays must be 1..32')
if (topology !== 'mesh' && topology !== 'star' && topology !== 'ring') throw new Error('--topology must be mesh, star or ring')
const base = Number(values['base-port'])
const host = values.host
const secret = values['peer-secret'] ?? randomBytes(16).toString('hex')
const url = (i: number): string => `ws://${host}:${base + i}`

const redisUrl = values.redis
if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(redisUrl)) throw new Error('--redis must be a redis:// URL')

function peers(i: number): string[] {
  if (n === 1 || redisUrl) return []
  if (topology === 'mesh') return Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).map(url)
  if (topology === 'star') return i === 0 ? [] : [url(0)]
  return [url((i + 1) % n)]
}

/** Whether a Redis answers PING at `url`. */
async function redisAnswers(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname)
    socket.setTimeout(1000, () => { socket.destroy(); resolve(false) })
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')) })
    socket.on('error', () => resolve(false))
  })
}

const children: ChildProcess[] = []
let redisChild: ChildProcess | null = null
if (redisUrl) {
  const url = new URL(redisUrl)
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
  if (!(await redisAnswers(url))) {
    const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
    if (!loopback || !found) throw new Error(`no Redis answers at ${redisUrl}${loopback ? ' and redis-server is not installed (apt-get install redis-server)' : ''}`)
    const redis = spawn(found, ['--port', url.port || '6379', '--bind', url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/[[\]]/g, ''), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    redisChild = redis
    const end = Date.now() + 10_000
    while (!(await redisAnswers(url))) {
      if (Date.now() > end || redis.exitCode !== null) throw new Error(`redis-server did not start on ${redisUrl}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    process.stdout.write(`started redis-server (pid ${redis.pid}, no persistence) at ${redisUrl}\n`)
  }
}
for (let i = 0; i < n; i++) {
  const args = [
    '--import', 'tsx', values.cli,
    '--host', host, '--port', String(base + i), '--id', `relay-${i}`,
    '--topology', topology, '--hub', 'relay-0', '--data', join(values.data, `relay-${i}`),
  ]
  const ps = peers(i)
  if (ps.length > 0) args.push('--peers', ps.join(','))
  if (redisUrl) args.push('--redis', redisUrl)
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TANDEM_PEER_SECRET: secret },
  })
  const prefix = `[relay-${i}] `
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) process.stdout.write(prefix + line + '\n')
    })
  }
  child.on('exit', (code, signal) => process.stdout.write(`${prefix}exited (${signal ?? code})\n`))
  children.push(child)
}

process.stdout.write(redisUrl
  ? `\n${n} relays sharing every room through ${redisUrl} (no peer list):\n`
  : `\n${topology} of ${n} relays (peer secret via TANDEM_PEER_SECRET):\n`)
for (let i = 0; i < n; i++) process.stdout.write(`  relay-${i}  http://${host}:${base + i}/  ${redisUrl ? 'redis' : `peers: ${peers(i).join(', ') || '(accepts only)'}`}\n`)
process.stdout.write('Open the demo page on two relays, edit, stop one (kill its pid), edit, restart: it catches up.\n\n')

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  for (const c of children) c.kill('SIGTERM')
  setTimeout(() => { redisChild?.kill('SIGKILL'); process.exit(0) }, 5_000).unref()
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))))).then(() => {
    redisChild?.kill('SIGTERM') // after the relays recorded their read positions
    process.exit(0)
  })
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
