/**
 * Worker thread that merges a room's log (`checkedMerge`), so a compaction never holds the
 * relay's event loop. Message in: `{ id, updates: Uint8Array[] }`; out: `{ id, merged }` or
 * `{ id, error }`.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { checkedMerge } from './checked-merge.ts'

parentPort?.on('message', (message: { id: number; updates: Uint8Array[] }) => {
  try {
    const merged = checkedMerge(message.updates)
    parentPort?.postMessage({ id: message.id, merged }, [merged.buffer as ArrayBuffer])
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) })
  }
})
