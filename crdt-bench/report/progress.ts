/** A one-line progress bar on stderr (redrawn in place on a TTY, sparse lines otherwise). */
export function progressBar (stream: NodeJS.WriteStream = process.stderr): (done: number, total: number, label: string) => void {
  let lastPct = -1
  return (done, total, label) => {
    const pct = Math.floor((100 * done) / total)
    const width = 30
    const fill = Math.round((width * done) / total)
    const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${label}`
    if (stream.isTTY) stream.write(`\r${line.padEnd(100).slice(0, 100)}${done === total ? '\n' : ''}`)
    else if (pct >= lastPct + 10 || done === total) { stream.write(`${line}\n`); lastPct = pct }
  }
}
