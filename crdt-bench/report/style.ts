/**
 * What makes the charts readable: one colour and one marker per strategy (or protocol), from
 * Paul Tol's colour-blind-safe "muted" scheme, so no two series share either; labels placed at
 * line ends and points, pushed apart when they would overlap; series with identical values
 * drawn side by side and labelled as one.
 */

/** Paul Tol's muted qualitative scheme (distinct under deuteranopia, protanopia, tritanopia), then grey. */
export const palette = ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677', '#882255', '#AA4499', '#777777'] as const

/** Marker shapes, in the order series get them. */
export const markerShapes = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'plus', 'cross', 'star', 'hexagon', 'bar'] as const
export type MarkerShape = typeof markerShapes[number]

/** Colour and marker of the `i`-th series. */
export function seriesStyle (i: number): { color: string, shape: MarkerShape } {
  return { color: palette[i % palette.length]!, shape: markerShapes[i % markerShapes.length]! }
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const f = (x: number): string => x.toFixed(1)

/** An SVG marker of `shape` centred on (x, y), radius `r`. */
export function marker (shape: MarkerShape, x: number, y: number, color: string, r = 5, title?: string): string {
  const t = title ? `<title>${esc(title)}</title>` : ''
  const poly = (pts: [number, number][]): string => `<polygon points="${pts.map(([a, b]) => `${f(x + a)},${f(y + b)}`).join(' ')}" fill="${color}" stroke="white" stroke-width="0.8">${t}</polygon>`
  const stroke = (d: string): string => `<path d="${d}" stroke="${color}" stroke-width="2.6" fill="none">${t}</path>`
  switch (shape) {
    case 'circle': return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}" stroke="white" stroke-width="0.8">${t}</circle>`
    case 'square': return poly([[-r, -r], [r, -r], [r, r], [-r, r]].map(([a, b]) => [a! * 0.85, b! * 0.85]))
    case 'triangle': return poly([[0, -r * 1.15], [r * 1.05, r * 0.8], [-r * 1.05, r * 0.8]])
    case 'triangle-down': return poly([[0, r * 1.15], [r * 1.05, -r * 0.8], [-r * 1.05, -r * 0.8]])
    case 'diamond': return poly([[0, -r * 1.2], [r, 0], [0, r * 1.2], [-r, 0]])
    case 'hexagon': return poly([0, 1, 2, 3, 4, 5].map(k => [r * Math.cos((Math.PI / 3) * k), r * Math.sin((Math.PI / 3) * k)]))
    case 'star': return poly(Array.from({ length: 10 }, (_, k) => { const rr = k % 2 === 0 ? r * 1.25 : r * 0.5; const a = -Math.PI / 2 + (Math.PI / 5) * k; return [rr * Math.cos(a), rr * Math.sin(a)] as [number, number] }))
    case 'plus': return stroke(`M${f(x - r)},${f(y)}H${f(x + r)}M${f(x)},${f(y - r)}V${f(y + r)}`)
    case 'cross': return stroke(`M${f(x - r * 0.8)},${f(y - r * 0.8)}L${f(x + r * 0.8)},${f(y + r * 0.8)}M${f(x - r * 0.8)},${f(y + r * 0.8)}L${f(x + r * 0.8)},${f(y - r * 0.8)}`)
    case 'bar': return poly([[-r * 1.2, -r * 0.45], [r * 1.2, -r * 0.45], [r * 1.2, r * 0.45], [-r * 1.2, r * 0.45]])
  }
}

/**
 * Label positions: each label wants to sit at `want` (a y coordinate); returns positions at
 * least `gap` apart, as close to what each wanted as the order allows, within [lo, hi].
 */
export function spread (want: readonly number[], gap: number, lo: number, hi: number): number[] {
  const order = want.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i)
  const ys = order.map(o => o.y)
  for (let k = 1; k < ys.length; k++) ys[k] = Math.max(ys[k]!, ys[k - 1]! + gap)
  const over = (ys.at(-1) ?? lo) - hi
  if (over > 0) for (let k = ys.length - 1; k >= 0; k--) ys[k] = Math.min(ys[k]!, k === ys.length - 1 ? hi : ys[k + 1]! - gap)
  for (let k = 0; k < ys.length; k++) ys[k] = Math.max(ys[k]!, lo + k * gap)
  const out = new Array<number>(want.length)
  order.forEach((o, k) => { out[o.i] = ys[k]! })
  return out
}

/** Groups of series whose values are all equal (keyed by their values), in first-seen order. */
export function identicalGroups<T> (names: readonly string[], values: (name: string) => T): string[][] {
  const groups = new Map<string, string[]>()
  for (const n of names) { const k = JSON.stringify(values(n)); const g = groups.get(k); if (g) g.push(n); else groups.set(k, [n]) }
  return [...groups.values()]
}

/**
 * Labels at the right of a chart for series ending at `want` (y): each label shows every
 * series' marker then its names ("a = b (identical)" for a group), pushed apart vertically
 * with a thin leader line back to the end it names when moved.
 */
export function endLabels (ends: readonly { names: readonly string[], want: number }[], x0: number, lo: number, hi: number, style: (name: string) => { color: string, shape: MarkerShape }): string[] {
  const out: string[] = []
  const at = spread(ends.map(e => e.want), 15, lo, hi)
  ends.forEach((e, i) => {
    const y = at[i]!
    if (Math.abs(y - e.want) > 2) out.push(`<line x1="${x0 - 2}" y1="${e.want.toFixed(1)}" x2="${x0 + 8}" y2="${y.toFixed(1)}" stroke="#999" stroke-width="0.7"/>`)
    let x = x0 + 16
    for (const n of e.names) { const s = style(n); out.push(marker(s.shape, x, y, s.color, 4.5)); x += 12 }
    out.push(`<text x="${x}" y="${(y + 4).toFixed(1)}" fill="#222">${esc(e.names.length > 1 ? `${e.names.join(' = ')} (identical)` : e.names[0]!)}</text>`)
  })
  return out
}
