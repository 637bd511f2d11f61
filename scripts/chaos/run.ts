/**
 * `npm run chaos -- --seconds N --seed S [--relays 3-5] [--topology mesh|star|ring | --no-redis | --redis [--persistence rdb|aof]] [--out FILE] [--keep]`:
 * one fault campaign (several with `--runs K`, seeds S, S+1, ...), over peer links or through
 * one redis-server (`--redis`; without it, `--topology` or `--no-redis`, seeds with `seed % 4 === 3`), relays run from the
 * compiled dist/relay/cli.js (`prechaos` builds it). Prints a summary per run
 * and writes the results as JSON (default `crdt-bench/results/chaos.json`). Exits 1 if any run lost an
 * acknowledged write, did not converge or hit a problem.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { existsSync } from 'node:fs'
import { redisBySeed, runCampaign, type CampaignResult } from './campaign.ts'
import { FAULT_KINDS, type FaultKind } from './faults.ts'

const USAGE = `usage: npm run chaos -- --seconds N --seed S [--runs K] [--relays 3|4|5] [--topology mesh|star|ring | --no-redis | --redis [--persistence rdb|aof]] [--kinds ${FAULT_KINDS.join(',')}] [--out FILE] [--keep] [--quiet]`

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`chaos: --${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}\n${USAGE}\n`)
    process.exit(2)
  }
  return n
}

let values: Record<string, string | boolean | undefined>
try {
  values = parseArgs({
    options: {
      seconds: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' }, relays: { type: 'string' },
      topology: { type: 'string' }, redis: { type: 'boolean' }, 'no-redis': { type: 'boolean' }, persistence: { type: 'string' }, kinds: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
    },
  }).values
} catch (error) {
  process.stderr.write(`chaos: ${(error as Error).message.split('. ')[0]}\n${USAGE}\n`)
  process.exit(2)
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const seconds = int('seconds', values.seconds as string | undefined, 30, 1, 24 * 3600)
const seed = int('seed', values.seed as string | undefined, Math.floor(Math.random() * 1_000_000), 0, 2 ** 32 - 1)
const runs = int('runs', values.runs as string | undefined, 1, 1, 1000)
const relays = values.relays === undefined ? undefined : int('relays', values.relays as string, 3, 3, 5)
const topology = values.topology as string | undefined
if (topology !== undefined && !['mesh', 'star', 'ring'].includes(topology)) {
  process.stderr.write(`chaos: --topology must be mesh, star or ring, got ${JSON.stringify(topology)}\n`)
  process.exit(2)
}
if ((topology !== undefined || values['no-redis']) && values.redis) {
  process.stderr.write(`chaos: --topology or --no-redis (peer links) and --redis (one Redis, no peer links) exclude each other\n${USAGE}\n`)
  process.exit(2)
}
const persistence = values.persistence as string | undefined
if (persistence !== undefined && !['rdb', 'aof'].includes(persistence)) {
  process.stderr.write(`chaos: --persistence must be rdb or aof, got ${JSON.stringify(persistence)}\n`)
  process.exit(2)
}
const kinds = values.kinds === undefined ? undefined : (values.kinds as string).split(',').map((k) => k.trim()).filter(Boolean) as FaultKind[]
for (const kind of kinds ?? []) {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    process.stderr.write(`chaos: unknown fault kind ${JSON.stringify(kind)}\n${USAGE}\n`)
    process.exit(2)
  }
}
const out = (values.out as string | undefined) ?? 'crdt-bench/results/chaos.json'
await mkdir(dirname(out), { recursive: true })
const log = values.quiet ? undefined : (line: string): void => void process.stdout.write(`  ${new Date().toISOString().slice(11, 23)} ${line}\n`)

function summary(r: CampaignResult): string {
  const faults = FAULT_KINDS.filter((k) => r.faults[k] > 0).map((k) => `${k} ${r.faults[k]}`).join(', ')
  return [
    `seed ${r.seed}: ${r.relays} relays, ${r.mode === 'redis' ? `one Redis (${r.persistence})` : r.topology}, ${r.seconds} s — ${r.ok ? 'PASS' : 'FAIL'}`,
    `  faults injected: ${r.faultsTotal} (${faults || 'none'})`,
    `  writes: ${r.writes.issued} issued, ${r.writes.acked} acknowledged; clients that left: ${r.writes.writersLeft} (${r.writes.leftWithUnacked} with unacknowledged writes)`,
    `  lost: ${r.lost}`,
    `  time to converge after the last fault: ${r.convergeMs === null ? 'did not converge' : `${(r.convergeMs / 1000).toFixed(2)} s`}`,
    `  copies checked: ${r.live?.copies ?? 0} live, ${r.disk?.copies ?? 0} on disk after kill -9; counter ${r.live?.counter ?? '?'}`,
    ...r.problems.slice(0, 10).map((p) => `  problem: ${p}`),
    ...r.losses.slice(0, 10).map((l) => `  LOST: ${l.writer} ${JSON.stringify(l.op)} at ${l.where}: ${l.why}`),
  ].join('\n')
}

// Every stock WebsocketProvider adds a process 'exit' listener; a campaign runs a dozen or more.
process.setMaxListeners(100)
const results: CampaignResult[] = []
for (let i = 0; i < runs; i++) {
  const redis = values.redis === true || (topology === undefined && values['no-redis'] !== true && redisBySeed(seed + i))
  const r = await runCampaign({
    seconds, seed: seed + i, compiled: existsSync('dist/relay/cli.js'), redis, ...(relays ? { relays } : {}), ...(topology ? { topology: topology as 'mesh' } : {}),
    ...(persistence ? { persistence: persistence as 'rdb' } : {}), ...(kinds ? { kinds } : {}), keepDir: values.keep === true, ...(log ? { log } : {}),
  })
  results.push(r)
  process.stdout.write(`${summary(r)}\n`)
  await writeFile(out, JSON.stringify({ runs: results }, null, 2))
}
const total = {
  runs: results.length,
  seconds: results.reduce((a, r) => a + r.seconds, 0),
  faults: results.reduce((a, r) => a + r.faultsTotal, 0),
  acked: results.reduce((a, r) => a + r.writes.acked, 0),
  lost: results.reduce((a, r) => a + r.lost, 0),
  failed: results.filter((r) => !r.ok).length,
}
await writeFile(out, JSON.stringify({ total, runs: results }, null, 2))
process.stdout.write(`total: ${total.runs} run(s), ${total.seconds} s of faults, ${total.faults} faults, ${total.acked} writes acknowledged, lost: ${total.lost}, failed runs: ${total.failed} — JSON in ${out}\n`)
process.exit(total.failed === 0 ? 0 : 1)
