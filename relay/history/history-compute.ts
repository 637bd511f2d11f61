/**
 * Runs the history's document-sized computations (compute-ops.ts) in a worker thread, started
 * lazily and unreferenced while idle (the relay's process can exit). Compiled (`.js`), the worker
 * is the compiled `history-worker.js` beside this module; from source (vitest, tsx), it is loaded
 * through tsx, as the storage compactor's is.
 *
 * @module
 */
import { Worker } from 'node:worker_threads'
import type { computeOps, ComputeOp } from './compute-ops.ts'
import { RestoreMismatch } from './restore.ts'

type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void }
type Ops = typeof computeOps

/** The history's worker. */
export class HistoryCompute {
  private worker: Worker | null = null
  private nextId = 0
  private readonly pending = new Map<number, Pending>()

  private start(): Worker {
    if (this.worker) return this.worker
    let worker: Worker
    if (import.meta.url.endsWith('.js')) {
      worker = new Worker(new URL('./history-worker.js', import.meta.url))
    } else {
      const entry = new URL('./history-worker.ts', import.meta.url).href
      const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
      worker = new Worker(bootstrap, { eval: true })
    }
    worker.unref()
    worker.on('message', (message: { id: number; result?: unknown; error?: string; mismatch?: boolean }) => {
      const p = this.pending.get(message.id)
      if (!p) return
      this.pending.delete(message.id)
      if (message.error === undefined) p.resolve(message.result)
      else p.reject(message.mismatch ? new RestoreMismatch() : new Error(`history computation failed: ${message.error}`))
    })
    const fail = (error: Error): void => {
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
      this.worker = null
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`history worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }

  /** Runs `op` with `args` in the worker. */
  run<K extends ComputeOp>(op: K, ...args: Parameters<Ops[K]>): Promise<ReturnType<Ops[K]>> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise<ReturnType<Ops[K]>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject })
      worker.ref()
      worker.postMessage({ id, op, args })
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref()
    })
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    if (worker) await worker.terminate()
  }
}
