/**
 * Self-contained SVG charts (no library, no script, deterministic text): lost updates vs
 * concurrency per strategy (lines), sync bytes per update by topology and size per protocol
 * (grouped bars, log scale), and the HTML page that holds them with the trade-off chart.
 * Colours, markers and label placement come from style.ts.
 */
import type { SuiteResult } from '../sim/suite.ts'
import { endLabels, esc, identicalGroups, marker, palette, seriesStyle } from './style.ts'
import { tradeoffChart } from './tradeoff-chart.ts'
import { tradeoffTable } from './tables.ts'

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)]

/** Style index of each strategy: its place in the run's strategy order (same in every chart). */
export function strategyStyle (r: SuiteResult, name: string): ReturnType<typeof seriesStyle> {
  return seriesStyle(Math.max(0, r.tradeoff.findIndex(t => t.strategy === name)))
}

/**
 * Lost updates (percent of operations) vs concurrent writers, one line per strategy with its
 * colour and marker, labelled at its end. Strategies with identical values everywhere are drawn
 * a few pixels apart and share one label ("crdt = crdt-ydoc").
 */
export function lostUpdatesChart (r: SuiteResult): string {
  const W = 720; const H = 380; const L = 60; const R = 210; const T = 40; const B = 50
  const cs = uniq(r.scenarios.map(s => s.concurrency)).sort((a, b) => a - b)
  const sts = uniq(r.scenarios.map(s => s.strategy))
  const pct = (st: string, c: number): number => {
    const xs = r.scenarios.filter(s => s.strategy === st && s.concurrency === c)
    const ops = xs.reduce((a, x) => a + x.ops, 0)
    return ops === 0 ? 0 : 100 * xs.reduce((a, x) => a + x.lostUpdates, 0) / ops
  }
  const max = Math.max(5, ...sts.flatMap(st => cs.map(c => pct(st, c))))
  const x = (i: number): number => L + (i * (W - L - R)) / Math.max(1, cs.length - 1)
  const y = (v: number): number => T + (H - T - B) * (1 - v / max)
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${(L + W - R) / 2}" y="20" text-anchor="middle" font-size="14">Lost updates vs concurrent writers (${r.config.replicas} replicas, all workloads and topologies)</text>`]
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}%</text>`)
  }
  cs.forEach((c, i) => out.push(`<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle">${c}</text>`))
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">concurrent writers per burst</text>`)
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">lost updates, % of operations</text>`)
  const groups = identicalGroups(sts, st => cs.map(c => pct(st, c).toFixed(2)))
  const ends: { names: string[], want: number }[] = []
  for (const g of groups) {
    g.forEach((st, k) => {
      const { color, shape } = strategyStyle(r, st)
      const dy = (k - (g.length - 1) / 2) * 4 // identical series side by side, 4 px apart
      const pts = cs.map((c, i) => [x(i), y(pct(st, c)) + dy] as const)
      out.push(`<polyline points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2.2"/>`)
      pts.forEach(([a, b], i) => out.push(marker(shape, a, b, color, 4.5, `${st}, ${cs[i]} concurrent: ${pct(st, cs[i]!).toFixed(1)}% lost`)))
    })
    ends.push({ names: g, want: y(pct(g[0]!, cs.at(-1)!)) })
  }
  out.push(...endLabels(ends, W - R + 6, T, H - B, n => strategyStyle(r, n)))
  out.push('</svg>')
  return out.join('\n')
}

/** Sync bytes per update (log scale) for one CRDT type, grouped by topology and size. */
export function syncBytesChart (r: SuiteResult, type = 'ORSet'): string {
  const xs = r.sync.filter(s => s.type === type)
  const groups = uniq(xs.map(s => `${s.topology}-${s.replicas}`))
  const ps = uniq(xs.map(s => s.protocol))
  const W = Math.max(640, 60 + groups.length * 60 + 150); const H = 380; const L = 60; const R = 150; const T = 40; const B = 60
  const vals = xs.map(s => Math.max(1, s.wireBytesPerOp))
  const lo = Math.floor(Math.log10(Math.min(...vals))); const hi = Math.ceil(Math.log10(Math.max(...vals)))
  const y = (v: number): number => T + (H - T - B) * (1 - (Math.log10(Math.max(1, v)) - lo) / Math.max(1, hi - lo))
  const gw = (W - L - R) / groups.length; const bw = (gw - 8) / ps.length
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(type)} sync: bytes on the wire per update, by topology-replicas (log scale)</text>`]
  for (let e = lo; e <= hi; e++) out.push(`<line x1="${L}" x2="${W - R}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/><text x="${L - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${e >= 6 ? `${10 ** (e - 6)}M` : e >= 3 ? `${10 ** (e - 3)}k` : 10 ** e}</text>`)
  groups.forEach((g, gi) => {
    ps.forEach((p, pi) => {
      const s = xs.find(x => `${x.topology}-${x.replicas}` === g && x.protocol === p)!
      const x0 = L + gi * gw + 4 + pi * bw
      out.push(`<rect x="${x0.toFixed(1)}" y="${y(s.wireBytesPerOp).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - B - y(s.wireBytesPerOp)).toFixed(1)}" fill="${palette[[0, 6, 2, 4][pi % 4]!]}"><title>${esc(`${g} ${p}: ${s.wireBytesPerOp} B/update`)}</title></rect>`)
    })
    out.push(`<text x="${(L + gi * gw + gw / 2).toFixed(1)}" y="${H - B + 14}" text-anchor="end" transform="rotate(-40 ${(L + gi * gw + gw / 2).toFixed(1)} ${H - B + 14})">${esc(g)}</text>`)
  })
  ps.forEach((p, pi) => out.push(`<rect x="${W - R + 12}" y="${T + pi * 20}" width="12" height="12" fill="${palette[[0, 6, 2, 4][pi % 4]!]}"/><text x="${W - R + 30}" y="${T + pi * 20 + 10}">${esc(p)}</text>`))
  out.push('</svg>')
  return out.join('\n')
}

/** One HTML page with the trade-off chart and table, the other charts and every table. */
export function htmlPage (r: SuiteResult, tablesMarkdown: string): string {
  return `<!doctype html><meta charset="utf-8"><title>crdt-bench</title><body style="font-family:sans-serif;max-width:1100px;margin:auto">
<h1>crdt-bench results (seed ${r.config.seed}${r.config.quick ? ', quick' : ''})</h1>
<h2>The trade-off: lost updates, write latency, availability</h2>
${tradeoffChart(r)}
<pre>${esc(tradeoffTable(r))}</pre>
<h2>Lost updates and sync cost</h2>
${lostUpdatesChart(r)}
${syncBytesChart(r, 'ORSet')}
${syncBytesChart(r, 'GCounter')}
<pre>${esc(tablesMarkdown)}</pre></body>`
}
