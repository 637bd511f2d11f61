/**
 * `npm run bench:redis` — how far one Redis carries relays sharing rooms (relay/redis/).
 *
 * For each (relays, rooms) pair: that many in-process relays (LevelDB in temp dirs) on one
 * real redis-server, every relay with every room loaded (the worst case: every update is read
 * by every other relay). Updates are applied round-robin to rooms on round-robin relays, in
 * paced batches, until every relay holds every update. Measured from Redis itself:
 *   - redis-server CPU per client update (`INFO cpu`, user + sys), µs;
 *   - the updates/s one Redis core would carry at that cost (1e6 / µs): the ceiling;
 *   - Redis commands per update and the µs Redis spent inside XADD / XREAD (`INFO commandstats`);
 * and the bench process's CPU per delivered update (all relays share this process).
 *
 * Flags: --quick (fewer updates and pairs), --json PATH (default crdt-bench/results/redis-capacity.json).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Redis } from 'ioredis'
import * as Y from 'yjs'
import { createRelay, type Relay } from '../../relay/server/server.ts'
import { redisExtension, type RedisExtension } from '../../relay/redis/index.ts'
import { startBenchRedis } from './redis-server.ts'

const quick = process.argv.includes('--quick')
const jsonIdx = process.argv.indexOf('--json')
const jsonPath = (jsonIdx >= 0 ? process.argv[jsonIdx + 1] : undefined) ?? 'crdt-bench/results/redis-capacity.json'
const updates = quick ? 600 : 3000
const batch = 20 // updates per tick
const pairs: Array<[relays: number, rooms: number]> = quick
  ? [[2, 10], [4, 10], [4, 200]]
  : [[2, 10], [4, 10], [8, 10], [4, 1000], [8, 1000]]

interface Row {
  relays: number
  rooms: number
  updates: number
  redisCpuUsPerUpdate: number
  ceilingUpdatesPerSecond: number
  redisCommandsPerUpdate: number
  xaddUsPerUpdate: number
  xreadUsPerUpdate: number
  benchCpuUsPerDelivered: number
}

async function commandStats(url: string): Promise<Map<string, { calls: number; usec: number }>> {
  const client = new Redis(url, { lazyConnect: true })
  await client.connect()
  try {
    const out = new Map<string, { calls: number; usec: number }>()
    for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) {
      out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) })
    }
    return out
  } finally {
    client.disconnect()
  }
}

async function measure(relays: number, rooms: number): Promise<Row> {
  const redis = await startBenchRedis()
  const dirs: string[] = []
  const members: Array<{ relay: Relay; ext: RedisExtension }> = []
  try {
    for (let i = 0; i < relays; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'tandem-redis-cap-'))
      dirs.push(dir)
      const ext = redisExtension({ url: redis.url, id: `cap${i}` })
      const relay = await createRelay({ host: '127.0.0.1', port: 0, data: dir, logLevel: 'silent', id: `cap${i}`, idleMs: 3_600_000 }, { extensions: [ext] })
      members.push({ relay, ext })
    }
    const live = (): boolean => members.every((m) => m.ext.node?.isLive())
    for (let end = Date.now() + 20_000; !live();) {
      if (Date.now() > end) throw new Error('relays did not connect to Redis')
      await new Promise((r) => setTimeout(r, 10))
    }
    const names = Array.from({ length: rooms }, (_, i) => `room-${i}`)
    const docs = await Promise.all(members.map(async (m) => Promise.all(names.map((n) => m.relay.rooms.get(n)))))
    for (const m of members) for (const room of m.relay.rooms.loaded()) m.relay.rooms.pin(room)
    // Let the catch-up of the loads settle before measuring.
    await new Promise((r) => setTimeout(r, 1500))
    const writers = names.map(() => new Y.Doc())
    const before = await commandStats(redis.url)
    const redisCpu0 = await redis.cpuSeconds()
    const cpu0 = process.cpuUsage()
    for (let u = 0; u < updates; u += batch) {
      for (let k = u; k < Math.min(updates, u + batch); k++) {
        const r = k % rooms
        const doc = writers[r] as Y.Doc
        const sv = Y.encodeStateVector(doc)
        doc.getMap('m').set(`u${k}`, k)
        docs[k % relays]![r]!.applyUpdate(Y.encodeStateAsUpdate(doc, sv), 'bench')
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    const expected = (r: number): number => Math.floor(updates / rooms) + (r < updates % rooms ? 1 : 0)
    for (let end = Date.now() + 120_000; ;) {
      if (docs.every((rs) => rs.every((room, r) => room.doc.getMap('m').size === expected(r)))) break
      if (Date.now() > end) throw new Error(`${relays} relays × ${rooms} rooms did not converge`)
      await new Promise((r) => setTimeout(r, 5))
    }
    const cpu = process.cpuUsage(cpu0)
    const redisCpuUs = ((await redis.cpuSeconds()) - redisCpu0) * 1e6
    const after = await commandStats(redis.url)
    const delta = (cmd: string): { calls: number; usec: number } => ({
      calls: (after.get(cmd)?.calls ?? 0) - (before.get(cmd)?.calls ?? 0),
      usec: (after.get(cmd)?.usec ?? 0) - (before.get(cmd)?.usec ?? 0),
    })
    let commands = 0
    for (const cmd of after.keys()) if (cmd !== 'info') commands += delta(cmd).calls
    return {
      relays, rooms, updates,
      redisCpuUsPerUpdate: redisCpuUs / updates,
      ceilingUpdatesPerSecond: 1e6 / (redisCpuUs / updates),
      redisCommandsPerUpdate: commands / updates,
      xaddUsPerUpdate: delta('xadd').usec / updates,
      xreadUsPerUpdate: delta('xread').usec / updates,
      benchCpuUsPerDelivered: (cpu.user + cpu.system) / (updates * (relays - 1)),
    }
  } finally {
    for (const m of members) await m.relay.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    await redis.stop()
  }
}

const rows: Row[] = []
for (const [relays, rooms] of pairs) {
  process.stderr.write(`bench:redis ${relays} relays × ${rooms} rooms...\n`)
  rows.push(await measure(relays, rooms))
}
const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-')
const lines = [
  `bench:redis — ${updates} updates (${batch} per ms tick) spread over the rooms, every relay has every room loaded, one redis-server`,
  '',
  '| relays | rooms | redis CPU / update (µs) | one Redis core carries (updates/s) | Redis commands / update | in XADD (µs/update) | in XREAD (µs/update) | bench CPU / delivered update (µs) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.relays} | ${r.rooms} | ${fmt(r.redisCpuUsPerUpdate)} | ${fmt(r.ceilingUpdatesPerSecond, 0)} | ${fmt(r.redisCommandsPerUpdate, 2)} | ${fmt(r.xaddUsPerUpdate, 2)} | ${fmt(r.xreadUsPerUpdate, 2)} | ${fmt(r.benchCpuUsPerDelivered, 0)} |`),
]
const base = rows[0]
if (base) for (const r of rows.slice(1)) lines.push(`${r.relays}×${r.rooms} vs ${base.relays}×${base.rooms}: redis CPU/update ×${fmt(r.redisCpuUsPerUpdate / base.redisCpuUsPerUpdate, 2)}`)
process.stdout.write(lines.join('\n') + '\n')
mkdirSync(dirname(jsonPath), { recursive: true })
writeFileSync(jsonPath, JSON.stringify({ command: `npm run bench:redis${quick ? ' -- --quick' : ''}`, date: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n')
process.stdout.write(`\nwrote ${jsonPath}\n`)
process.exit(0)
