/**
 * A throwaway redis-server for the benchmark: a free loopback port, no persistence,
 * stopped by PID. Fails when redis-server is not installed (Debian's package).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Redis } from 'ioredis'
import { connect, createServer, type AddressInfo } from 'node:net'

function binary(): string {
  if (existsSync('/usr/bin/redis-server')) return '/usr/bin/redis-server'
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
  if (!found) throw new Error('redis-server not found (apt-get install redis-server)')
  return found
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')) })
    socket.on('error', () => resolve(false))
  })
}

export interface BenchRedis {
  url: string
  /** CPU seconds (user + system) redis-server used so far, from `INFO cpu` (µs precision). */
  cpuSeconds(): Promise<number>
  stop(): Promise<void>
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort()
  const child: ChildProcess = spawn(binary(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise((r) => child.once('exit', r))
  const end = Date.now() + 10_000
  while (!(await ping(port))) {
    if (Date.now() > end || child.exitCode !== null) throw new Error('redis-server did not start')
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async cpuSeconds() {
      const client = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 1 })
      try {
        await client.connect()
        const info = await client.info('cpu')
        const read = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN)
        return read('used_cpu_user') + read('used_cpu_sys')
      } finally {
        client.disconnect()
      }
    },
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
