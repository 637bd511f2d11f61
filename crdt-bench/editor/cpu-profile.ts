/**
 * Summary of a V8 CPU profile (`.cpuprofile`, from CDP `Profiler.stop` or `node --cpu-prof`):
 * self time per source module, self and inclusive time per function, divided by a count (keys,
 * edits) so the figures read "ms per key". Inclusive time counts a sample once per function on
 * its stack (recursion is not counted twice).
 *
 *   npx tsx crdt-bench/editor/cpu-profile.ts FILE.cpuprofile [DIVISOR] [FILTER]
 * (for `node --cpu-prof` of a headless run: modules are source paths; FILTER keeps the inclusive
 * rows whose name contains it, e.g. `editor/`).
 */
import { readFile } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
/** The parts of a V8 CPU profile this module reads. */
export interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a function lives: its module, from the script URL and line. */
export type Locate = (url: string, line: number) => string

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

/** Source-path modules (node_modules packages by name) for profiles of Node runs. */
export const locateSource: Locate = (url) => {
  if (!url) return '(native)'
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (m) return m[1]!
  return path.startsWith('/') ? relative(root, path) : path
}

/** The summary as text: the top modules and functions, in ms per `divisor`. */
export function summariseProfile(profile: Profile, locate: Locate, divisor: number, filter = ''): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const where = (f: CallFrame): string => locate(f.url, f.lineNumber)
  const keyOf = (f: CallFrame): string => `${f.functionName || '(anonymous)'} [${where(f)}:${f.lineNumber + 1}]`
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const modules = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000 // ms
    const node = byId.get(id)!
    const name = node.callFrame.functionName
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      modules.set(name, (modules.get(name) ?? 0) + dt)
      return
    }
    self.set(keyOf(node.callFrame), (self.get(keyOf(node.callFrame)) ?? 0) + dt)
    modules.set(where(node.callFrame), (modules.get(where(node.callFrame)) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur)!.callFrame)
      if (seen.has(k)) continue
      seen.add(k)
      total.set(k, (total.get(k) ?? 0) + dt)
    }
  })
  const top = (m: Map<string, number>, n: number, keep = ''): string =>
    [...m]
      .filter(([k]) => k.includes(keep))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${(v / divisor).toFixed(3).padStart(8)} ms  ${k}`)
      .join('\n')
  return [
    `self time per module (ms per ${divisor === 1 ? 'run' : 'unit, ' + divisor + ' units'}):`,
    top(modules, 25),
    '',
    'self time per function:',
    top(self, 40),
    '',
    `inclusive time per function${filter ? ` (${filter}…)` : ''}:`,
    top(total, 60, filter),
  ].join('\n')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, divisor = '1', filter = ''] = process.argv.slice(2)
  if (!file) throw new Error('usage: cpu-profile.ts FILE.cpuprofile [DIVISOR] [FILTER]')
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile
  process.stdout.write(summariseProfile(profile, locateSource, Number(divisor), filter) + '\n')
}
