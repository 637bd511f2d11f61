/**
 * tandem's relay for the browser tests and the editor benchmark (the `startRelay` fixture:
 * in-process, LevelDB), restartable on the same port with the same data directory, so that a
 * page loaded from the static server reconnects to "the same" relay after it was down.
 */
import { rm } from 'node:fs/promises'
import { startRelay, tempDataDir, type StartedRelay } from '../fixtures/index.ts'

/** A relay that can be stopped and started again on the same port and data directory. */
export interface TestRelay {
  /** `ws://127.0.0.1:<port>` (stable across restarts). */
  readonly url: string
  /** `http://127.0.0.1:<port>` (the relay also serves editor/dist at `/`). */
  readonly httpUrl: string
  readonly port: number
  /** Graceful stop (storage flushed, sockets closed with 1001); the data directory stays. */
  stop(): Promise<void>
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>
  /** Stops it (if running) and deletes its data directory. */
  dispose(): Promise<void>
}

/** Starts tandem's relay on a random loopback port with LevelDB in a fresh temp directory. */
export async function startTestRelay(): Promise<TestRelay> {
  const dataDir = await tempDataDir('tandem-e2e-')
  let port = 0
  let running: StartedRelay | null = null
  const start = async (): Promise<void> => {
    running = await startRelay({ port, data: dataDir })
    port = running.port
  }
  const stop = async (): Promise<void> => {
    const relay = running
    running = null
    await relay?.stop()
  }
  await start()
  return {
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    get httpUrl() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    start,
    stop,
    async dispose() {
      await stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
