/**
 * `npm run bench:start`: start-up time and idle memory of the relay, run through tsx (the
 * TypeScript sources, compiled at run time, as `npm start` did before the build step) and as
 * compiled JavaScript (`node --max-semi-space-size=8 dist/relay/cli.js`, what `npm start` runs now;
 * the node flags are read from package.json's `start`).
 *
 * Each run spawns the relay on a free port with LevelDB in a fresh temp directory and measures
 * - start-up: spawn → the "listening" line on stdout (the relay accepts connections then);
 * - idle RSS: the resident memory of the whole process tree (tsx runs node in a child
 *   process) sampled after the relay has been idle for `--settle-ms`, median of 5 samples.
 *
 * Flags: `--runs N` (default 5, alternating tsx / compiled), `--settle-ms MS` (default 1000).
 * Needs `npm run build` first (dist/). Prints a table and the compiled / tsx ratios.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tandemNodeEnv, tandemNodeFlags } from '../crdt-bench/servers/process.ts'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'settle-ms': { type: 'string', default: '1000' } } })
const RUNS = Number(values.runs)
const SETTLE_MS = Number(values['settle-ms'])

interface Variant {
  name: string
  command: string
  args: string[]
  env?: Record<string, string>
}
const VARIANTS: Variant[] = [
  { name: 'tsx relay/cli.ts', command: join(ROOT, 'node_modules/.bin/tsx'), args: ['relay/cli.ts'] },
  { name: `${Object.entries(tandemNodeEnv()).map(([k, v]) => `${k}=${v} `).join('')}node ${tandemNodeFlags().join(' ')} dist/relay/cli.js`, command: process.execPath, args: [...tandemNodeFlags(), 'dist/relay/cli.js'], env: tandemNodeEnv() },
]

/** RSS in KiB of `pid` and all its descendants (Linux /proc). */
async function treeRssKiB(pid: number): Promise<number> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid) parents.set(Number(entry), ppid)
  }
  const tree = new Set([pid])
  let grew = true
  while (grew) {
    grew = false
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child)
        grew = true
      }
    }
  }
  let total = 0
  for (const p of tree) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '')
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  }
  return total
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

async function measure(variant: Variant): Promise<{ startMs: number; rssMiB: number }> {
  const data = await mkdtemp(join(tmpdir(), 'tandem-start-'))
  const started = performance.now()
  const child = spawn(variant.command, [...variant.args, '--port', '0', '--data', data, '--log-level', 'warn', '--log-format', 'json'], {
    cwd: ROOT,
    env: { ...process.env, ...variant.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('listening on')) resolve(performance.now() - started)
      })
      child.once('exit', (code) => reject(new Error(`${variant.name} exited with ${code} before listening:\n${out}`)))
    })
    await delay(SETTLE_MS)
    const samples: number[] = []
    for (let i = 0; i < 5; i++) {
      samples.push(await treeRssKiB(child.pid!))
      await delay(100)
    }
    return { startMs, rssMiB: median(samples) / 1024 }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    await rm(data, { recursive: true, force: true })
  }
}

if (!existsSync(join(ROOT, 'dist/relay/cli.js'))) {
  process.stderr.write('dist/relay/cli.js is missing: run `npm run build` first\n')
  process.exit(1)
}
const results = new Map<string, { startMs: number[]; rssMiB: number[] }>(VARIANTS.map((v) => [v.name, { startMs: [], rssMiB: [] }]))
for (let run = 0; run < RUNS; run++) {
  for (const variant of VARIANTS) {
    const r = await measure(variant)
    results.get(variant.name)!.startMs.push(r.startMs)
    results.get(variant.name)!.rssMiB.push(r.rssMiB)
  }
}
process.stdout.write(`relay start-up and idle memory, median of ${RUNS} runs (LevelDB in a temp dir, idle ${SETTLE_MS} ms)\n\n`)
process.stdout.write('| command | start-up ms (median) | idle RSS MiB (median) |\n|---|---|---|\n')
for (const [name, r] of results) {
  process.stdout.write(`| \`${name}\` | ${median(r.startMs).toFixed(0)} | ${median(r.rssMiB).toFixed(1)} |\n`)
}
const [tsx, compiled] = VARIANTS.map((v) => results.get(v.name)!)
process.stdout.write(
  `\ncompiled / tsx: start-up ${(median(compiled!.startMs) / median(tsx!.startMs)).toFixed(2)}×, ` +
    `idle RSS ${(median(compiled!.rssMiB) / median(tsx!.rssMiB)).toFixed(2)}×\n`,
)
