/**
 * Runs `Y.mergeUpdates` in a worker thread (see `compactor-worker.ts`), one worker per
 * store, started lazily. Compiled (this module is `.js`), the worker is the compiled
 * `compactor-worker.js` beside it, with no TypeScript loader; run from source (`.ts`, vitest
 * or tsx), the worker is loaded through tsx (see the bootstrap in `start`).
 *
 * @module
 */
import { Worker } from 'node:worker_threads'

type Pending = { resolve: (merged: Uint8Array) => void; reject: (error: Error) => void }

/** Merges update lists off the event loop. */
export class Compactor {
  private worker: Worker | null = null
  private nextId = 0
  private readonly pending = new Map<number, Pending>()

  private start(): Worker {
    if (this.worker) return this.worker
    let worker: Worker
    if (import.meta.url.endsWith('.js')) {
      worker = new Worker(new URL('./compactor-worker.js', import.meta.url))
    } else {
      // Node 20 does not apply `--import tsx` from a worker's execArgv before its entry module,
      // so a tiny eval'd bootstrap registers tsx's loader and then imports the TS worker.
      const entry = new URL('./compactor-worker.ts', import.meta.url).href
      const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
      worker = new Worker(bootstrap, { eval: true })
    }
    worker.unref()
    worker.on('message', (message: { id: number; merged?: Uint8Array; error?: string }) => {
      const p = this.pending.get(message.id)
      if (!p) return
      this.pending.delete(message.id)
      if (message.merged) p.resolve(new Uint8Array(message.merged))
      else p.reject(new Error(`compaction failed: ${message.error}`))
    })
    const fail = (error: Error): void => {
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
      this.worker = null
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`compactor worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }

  /** The merge of `updates`, computed in the worker. */
  merge(updates: Uint8Array[]): Promise<Uint8Array> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.ref()
      worker.postMessage({ id, updates })
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref()
    }) as Promise<Uint8Array>
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    if (worker) await worker.terminate()
  }
}
