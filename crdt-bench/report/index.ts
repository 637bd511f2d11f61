/** crdt-bench's report: Markdown tables, SVG charts, an HTML page, a progress bar. */
export { report, tradeoffTable, strategyTable, concurrencyTable, topologyTable, skewTable, syncTable, traceTable } from './tables.ts'
export { lostUpdatesChart, syncBytesChart, htmlPage } from './charts.ts'
export { tradeoffChart } from './tradeoff-chart.ts'
export { progressBar } from './progress.ts'
