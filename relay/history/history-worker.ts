/**
 * Worker thread of the history: everything whose cost grows with the document — rebuilding a
 * version, its JSON preview, a diff, a restore, a retention rewrite — runs here, so a 500k-character
 * document never holds the relay's event loop. Message in: `{ id, op, args }`; out: `{ id, result }`
 * or `{ id, error, mismatch? }`. See history-compute.ts.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { computeOps, type ComputeOp } from './compute-ops.ts'
import { RestoreMismatch } from './restore.ts'

parentPort?.on('message', (message: { id: number; op: ComputeOp; args: unknown[] }) => {
  try {
    const result = (computeOps[message.op] as (...args: unknown[]) => unknown)(...message.args)
    parentPort?.postMessage({ id: message.id, result })
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error), mismatch: error instanceof RestoreMismatch })
  }
})
