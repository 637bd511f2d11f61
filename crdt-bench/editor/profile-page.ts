/**
 * Where a typed character's main-thread time goes on a page: a Chromium CPU profile (CDP
 * `Profiler`, 50 µs sampling) over `--keys` keystrokes typed in the middle of a `--chars`
 * document, with readable (unminified) bundles, summarised as self and inclusive time per
 * function and self time per source module, beside Chrome's per-key task / script / layout /
 * style metrics. A second user (a Node peer) is in the room with a cursor in the document.
 *
 *   npx tsx crdt-bench/editor/profile-page.ts --page demo --layout blocks --chars 50000 --keys 100
 *   --page demo|bench|prosemirror   the demo page, the bare editor page, or ProseMirror alone
 *   --layout blocks|y-prosemirror   the editor's layout (ignored for prosemirror)
 *   --remote                        profile applying the peer's keystrokes instead of typing
 *   --profile cpu|trace|both|none   a CPU profile (default), a Chromium trace (devtools.timeline:
 *                                   the renderer main thread's self time per event: script, style,
 *                                   layout, paint, commit, IPC, per key), both, or neither
 *   --compare N                     first, N keys on the page and N on ProseMirror alone (another
 *                                   renderer), alternating, without profiling: their p50s and ratio
 *   --alone                         no second user in the room
 *   --no-cursor                     a second user in the room who has no cursor in the document
 *   --no-indexeddb                  (bench page) mount the editor without IndexedDB persistence
 *   --css 'RULES'                   add a stylesheet to the page first (to test what a style costs)
 *   --out FILE                      also write the raw .cpuprofile (open it in DevTools)
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { launchChromium } from '../../test/e2e/chromium.ts'
import { summariseProfile, type Profile } from './cpu-profile.ts'
import { caretInTheMiddle, oneKey, openBenchPage, openDemoPage, settle, startBenchSite, type MeasuredPage } from './pages.ts'
import { joinAsPeer, type Layout } from './peer.ts'

/** Line → source module of an unminified esbuild bundle (its `// path` module comments). */
async function moduleTable(file: string): Promise<(line: number) => string> {
  const lines = (await readFile(file, 'utf8')).split('\n')
  const starts: [number, string][] = []
  lines.forEach((text, i) => {
    const m = /^\/\/ ((?:node_modules|editor|crdt|relay|crdt-bench)\/\S+)$/.exec(text)
    if (m) starts.push([i, m[1]!.replace(/^node_modules\//, '').replace(/\/dist\/.*|\/src\/.*/, '')])
  })
  return (line) => {
    let name = '?'
    for (const [start, module] of starts) {
      if (start > line) break
      name = module
    }
    return name
  }
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round((s[Math.floor(s.length / 2)] ?? NaN) * 1000) / 1000
}

interface TraceEvent {
  name: string
  ph: string
  ts: number
  dur?: number
  pid: number
  tid: number
  args?: { name?: string; data?: { type?: string } }
}

/**
 * Self time per trace event name on the renderer main thread(s) (`CrRendererMain`), per key:
 * complete events nested by time, each event's duration minus its children's.
 */
function traceSummary(buffer: Buffer, keys: number): string {
  const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`))
  const byThread = new Map<string, TraceEvent[]>()
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`
    if (e.ph !== 'X' || !main.has(key) || e.dur === undefined) continue
    const list = byThread.get(key) ?? []
    list.push(e)
    byThread.set(key, list)
  }
  const self = new Map<string, number>()
  let busy = 0
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)
    const stack: { e: TraceEvent; end: number; child: number }[] = []
    const pop = (): void => {
      const top = stack.pop()!
      const name = top.e.name === 'EventDispatch' ? `EventDispatch ${top.e.args?.data?.type ?? ''}` : top.e.name
      self.set(name, (self.get(name) ?? 0) + top.e.dur! - top.child)
      if (stack.length === 0) busy += top.e.dur!
    }
    for (const e of list) {
      while (stack.length && stack[stack.length - 1]!.end <= e.ts) pop()
      if (stack.length) stack[stack.length - 1]!.child += e.dur!
      stack.push({ e, end: e.ts + e.dur!, child: 0 })
    }
    while (stack.length) pop()
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)
  return [
    `renderer main thread, busy ${(busy / 1000 / keys).toFixed(3)} ms per key; self time per trace event (ms per key):`,
    ...rows.map(([name, us]) => `  ${(us / 1000 / keys).toFixed(3).padStart(8)}  ${name}`),
  ].join('\n')
}

const { values } = parseArgs({
  options: {
    page: { type: 'string', default: 'demo' },
    layout: { type: 'string', default: 'blocks' },
    chars: { type: 'string', default: '50000' },
    keys: { type: 'string', default: '100' },
    remote: { type: 'boolean', default: false },
    out: { type: 'string' },
    css: { type: 'string' },
    alone: { type: 'boolean', default: false },
    'no-cursor': { type: 'boolean', default: false },
    'no-indexeddb': { type: 'boolean', default: false },
    profile: { type: 'string', default: 'cpu' },
    compare: { type: 'string', default: '0' },
  },
})
const layout = values.layout as Layout
const chars = Number(values.chars)
const keys = Number(values.keys)
const site = await startBenchSite({ minify: false })
const browser = await launchChromium()
try {
  const room = `profile-${values.page}-${layout}-${process.pid}`
  let p: MeasuredPage
  if (values.page === 'demo') p = await openDemoPage(browser, site.httpUrl, site.relayUrl, room, layout, { name: 'A', color: '#e11d48' }, chars)
  else
    p = await openBenchPage(browser, site.httpUrl, {
      mode: values.page === 'prosemirror' ? 'prosemirror' : layout,
      chars,
      relay: site.relayUrl,
      room,
      ...(values['no-indexeddb'] ? { persistence: false } : {}),
    })
  const peer = values.page === 'prosemirror' || values.alone ? null : await joinAsPeer(site.relayUrl, room, layout, Math.ceil(chars / 100))
  const third = Math.floor(chars / 300)
  if (peer && !values['no-cursor']) {
    peer.placeCursor(third, 10)
    await p.page.waitForSelector('.ProseMirror-yjs-cursor', { timeout: 30_000 })
  }
  if (values.css) await p.page.addStyleTag({ content: values.css })
  await caretInTheMiddle(p)
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  const act = async (i: number): Promise<{ task: number; script: number; layout: number; style: number; thread: number }> => {
    if (!values.remote) return oneKey(p, letters[i % 26]!)
    const before = await p.cdp.send('Performance.getMetrics')
    if (peer) {
      await p.page.evaluate(() => {
        const doc = (window.tandem?.editor ?? window.benchEditor)!.doc
        ;(window as unknown as { __change: Promise<void> }).__change = new Promise<void>((r) => doc.once('afterTransaction', () => requestAnimationFrame(() => setTimeout(r, 0))))
      })
      peer.type(third, 20, letters[i % 26]!)
      await p.page.evaluate(() => (window as unknown as { __change: Promise<void> }).__change)
    } else {
      // ProseMirror alone: the same change as a scripted transaction
      await p.page.evaluate(
        ([n, c]) => {
          const view = window.benchView!
          let pos = 1
          for (let k = 0; k < n; k++) pos += view.state.doc.child(k).nodeSize
          view.dispatch(view.state.tr.insertText(c, pos + 20))
        },
        [third, letters[i % 26]!] as const,
      )
      await settle(p.page)
    }
    const after = await p.cdp.send('Performance.getMetrics')
    const d = (name: string): number =>
      ((after.metrics.find((m) => m.name === name)?.value ?? NaN) - (before.metrics.find((m) => m.name === name)?.value ?? NaN)) * 1000
    return { task: d('TaskDuration'), script: d('ScriptDuration'), layout: d('LayoutDuration'), style: d('RecalcStyleDuration'), thread: d('ThreadTime') }
  }
  for (let i = 0; i < 20; i++) await act(i)
  await settle(p.page)
  const compare = Number(values.compare)
  if (compare > 0) {
    const pm = await openBenchPage(browser, site.otherSiteUrl, { mode: 'prosemirror', chars, relay: site.relayUrl, room: `${room}-pm` })
    await caretInTheMiddle(pm)
    const mine: { task: number; thread: number }[] = []
    const theirs: { task: number; thread: number }[] = []
    for (let done = -20; done < compare; done += 5) {
      for (let i = 0; i < 5; i++) {
        const cost = await act(done + i + 26)
        if (done + i >= 0) mine.push(cost)
      }
      for (let i = 0; i < 5; i++) {
        const cost = await oneKey(pm, letters[(done + i + 26) % 26]!)
        if (done + i >= 0) theirs.push(cost)
      }
    }
    await pm.page.context().close()
    for (const metric of ['task', 'thread'] as const) {
      const [a, b] = [p50(mine.map((c) => c[metric])), p50(theirs.map((c) => c[metric]))]
      const what = metric === 'task' ? 'task time (wall)' : 'thread CPU time'
      process.stdout.write(`compare, ${what}: this page ${a} ms per key (p50), ProseMirror alone ${b}: ${(a / b).toFixed(2)}x\n`)
    }
  }
  const cpu = values.profile === 'cpu' || values.profile === 'both'
  const tracing = values.profile === 'trace' || values.profile === 'both'
  if (tracing) await browser.startTracing(p.page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8'] })
  if (cpu) {
    await p.cdp.send('Profiler.enable')
    await p.cdp.send('Profiler.setSamplingInterval', { interval: 50 })
    await p.cdp.send('Profiler.start')
  }
  const samples: { task: number; script: number; layout: number; style: number }[] = []
  if (values.profile !== 'none') for (let i = 0; i < keys; i++) samples.push(await act(i))
  const profile = cpu ? ((await p.cdp.send('Profiler.stop')) as unknown as { profile: Profile }).profile : null
  const trace = tracing ? await browser.stopTracing() : null
  if (values.out && profile) await writeFile(values.out, JSON.stringify(profile))
  const bundles = {
    'demo.js': await moduleTable(join(site.dir, 'demo.js')),
    'keystroke-page.js': await moduleTable(join(site.dir, 'keystroke-page.js')),
  }
  if (samples.length) process.stdout.write(
    `${values.page} ${values.page === 'prosemirror' ? '' : layout} ${chars} chars, ${keys} ${values.remote ? 'remote' : 'typed'} keys (${values.profile}; ms per key, p50): ` +
      `task ${p50(samples.map((s) => s.task))}, script ${p50(samples.map((s) => s.script))}, ` +
      `layout ${p50(samples.map((s) => s.layout))}, style ${p50(samples.map((s) => s.style))}\n\n`,
  )
  if (profile) {
    const locate = (url: string, line: number): string => {
      const file = url.split('/').pop() ?? ''
      const table = bundles[file as keyof typeof bundles]
      return table ? table(line) : file || '(native)'
    }
    process.stdout.write(summariseProfile(profile, locate, keys) + '\n')
  }
  if (trace) process.stdout.write('\n' + traceSummary(trace, keys) + '\n')
  peer?.close()
} finally {
  await browser.close()
  await site.close()
}
