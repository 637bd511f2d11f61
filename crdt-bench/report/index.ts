/** crdt-bench's report: Markdown tables, SVG charts, an HTML page, a progress bar. */
export { report, strategyTable, concurrencyTable, topologyTable, skewTable, syncTable, traceTable } from './tables.ts'
export { lostUpdatesChart, syncBytesChart, htmlPage } from './charts.ts'
export { progressBar } from './progress.ts'
