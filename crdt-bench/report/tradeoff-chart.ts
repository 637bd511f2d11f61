/**
 * The trade-off chart: one point per strategy at (write latency, lost updates), the marker at
 * the p50 and a whisker to the p99 (x on a log scale that keeps 0), availability under both partitions in its label. Labels sit
 * in a column on the right, pushed apart, with a leader line to their point; strategies at the
 * same point are drawn side by side and share one label.
 */
import type { SuiteResult } from '../sim/suite.ts'
import type { TradeoffRow } from '../sim/tradeoff.ts'
import { esc, identicalGroups, marker, seriesStyle, spread } from './style.ts'

const pct = (x: number): string => `${Math.round(x * 100)}%`

/** Label of a group of strategies at one point. */
export function tradeoffLabel (rows: readonly TradeoffRow[]): string {
  const a = rows[0]!
  const names = rows.length > 1 ? `${rows.map(r => r.strategy).join(' = ')} (identical)` : a.strategy
  return `${names}: available ${pct(a.availability)} / ${pct(a.availabilityLeaderCut)}`
}

export function tradeoffChart (r: SuiteResult): string {
  const rows = r.tradeoff
  const groups = identicalGroups(rows.map(t => t.strategy), n => {
    const t = rows.find(q => q.strategy === n)!
    return [t.lostUpdates, t.writeLatencyP50Ms, t.writeLatencyP99Ms, t.availability, t.availabilityLeaderCut]
  }).map(g => g.map(n => rows.find(t => t.strategy === n)!))
  // The label column is as wide as its longest label (about 6.7 px a character at 12 px, plus markers).
  const longest = Math.max(...groups.map(g => tradeoffLabel(g).length + 2 * g.length))
  const H = 420; const L = 64; const R = 60 + Math.ceil(longest * 6.7); const T = 56; const B = 52; const W = 480 + R
  const lostPct = (t: TradeoffRow): number => (100 * t.lostUpdates) / Math.max(1, t.ops)
  // x on a log scale shifted by 1 ms, so 0 ms (a write taken at once) has a place and a
  // p99 of seconds does not squeeze the p50s of a round trip or two.
  const ticks = [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
  const xMax = ticks.find(v => v >= Math.max(100, ...rows.map(t => t.writeLatencyP99Ms)))!
  const yMax = Math.max(5, Math.ceil(Math.max(...rows.map(lostPct)) / 10) * 10)
  const x = (v: number): number => L + ((W - L - R) * Math.log10(1 + v)) / Math.log10(1 + xMax)
  const y = (v: number): number => T + (H - T - B) * (1 - v / yMax)
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">What each strategy pays: lost updates against write latency, availability in the labels</text>`,
    `<text x="${W / 2}" y="38" text-anchor="middle" font-size="11" fill="#444">marker: p50 write latency (until the writer's user is told the write is taken), whisker to p99; ${r.config.replicas} replicas, seed ${r.config.seed}${r.config.quick ? ', quick' : ''}</text>`]
  for (let v = 0; v <= yMax; v += yMax / 5) out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(0)}%</text>`)
  for (const v of ticks.filter(t => t <= xMax)) out.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#f0f0f0"/><text x="${x(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${v}</text>`)
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">write latency, simulated ms (log scale)</text>`)
  out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">lost updates, % of operations</text>`)
  const style = (t: TradeoffRow): ReturnType<typeof seriesStyle> => seriesStyle(rows.indexOf(t))
  const points = groups.map(g => ({ g, px: x(g[0]!.writeLatencyP50Ms), py: y(lostPct(g[0]!)) }))
  // Points whose whiskers would overlap (within 6 px in y) are drawn 8 px apart, in order.
  const order = points.map((p, i) => ({ p, i })).sort((a, b) => a.p.py - b.p.py || a.i - b.i)
  for (let k = 0; k < order.length;) {
    let e = k + 1
    while (e < order.length && order[e]!.p.py - order[e - 1]!.p.py < 6) e++
    const mid = order.slice(k, e).reduce((a, o) => a + o.p.py, 0) / (e - k)
    order.slice(k, e).forEach((o, j) => { o.p.py = mid + (j - (e - k - 1) / 2) * 8 })
    k = e
  }
  for (const { g, py } of points) {
    g.forEach((t, k) => {
      const s = style(t)
      const dx = (k - (g.length - 1) / 2) * 11 // same point: side by side
      if (t.writeLatencyP99Ms > t.writeLatencyP50Ms) out.push(`<line x1="${x(t.writeLatencyP50Ms).toFixed(1)}" x2="${x(t.writeLatencyP99Ms).toFixed(1)}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="${s.color}" stroke-width="2"/><line x1="${x(t.writeLatencyP99Ms).toFixed(1)}" x2="${x(t.writeLatencyP99Ms).toFixed(1)}" y1="${(py - 5).toFixed(1)}" y2="${(py + 5).toFixed(1)}" stroke="${s.color}" stroke-width="2"/>`)
      out.push(marker(s.shape, x(t.writeLatencyP50Ms) + dx, py, s.color, 6, `${t.strategy}: ${lostPct(t).toFixed(1)}% lost, write p50 ${t.writeLatencyP50Ms} ms, p99 ${t.writeLatencyP99Ms} ms, ${pct(t.availability)} / ${pct(t.availabilityLeaderCut)} available`))
    })
  }
  const x0 = W - R + 10
  const at = spread(points.map(p => p.py), 17, T, H - B)
  points.forEach(({ g, px, py }, i) => {
    const ly = at[i]!
    out.push(`<line x1="${(px + 8 + (g.length - 1) * 6).toFixed(1)}" y1="${py.toFixed(1)}" x2="${x0 - 2}" y2="${ly.toFixed(1)}" stroke="#bbb" stroke-width="0.7" stroke-dasharray="2,2"/>`)
    let lx = x0 + 6
    for (const t of g) { const s = style(t); out.push(marker(s.shape, lx, ly, s.color, 4.5)); lx += 12 }
    out.push(`<text x="${lx}" y="${(ly + 4).toFixed(1)}" fill="#222">${esc(tradeoffLabel(g))}</text>`)
  })
  out.push(`<text x="${x0}" y="${H - 26}" font-size="10" fill="#555">points closer than 6 px in y are drawn 8 px apart</text>`)
  out.push(`<text x="${x0}" y="${H - 14}" font-size="10" fill="#555">available: writes taken within ${r.config.writeTimeoutMs} ms during a partition</text>`)
  out.push(`<text x="${x0}" y="${H - 2}" font-size="10" fill="#555">cutting 2 followers off / cutting the leader's side (3 of 8) off</text>`)
  out.push('</svg>')
  return out.join('\n')
}
