import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { spawnRelay, tempDataDir, type SpawnedRelay } from '../../fixtures/relay.ts'
import { RawClient } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { awareness } from '../auth/helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const MAX_BUFFERED = 1024 * 1024
const FRAME_BYTES = 64 * 1024
const FRAMES = 600 // 37.5 MiB pushed at a reader that never reads
const WARMUP = 150
/** RSS growth allowed besides the buffer bound: garbage not yet collected. */
const SLACK_MIB = 16

const cleanups = cleanupAfterEach()

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return kb / 1024
}

async function metric(relay: SpawnedRelay, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
  return Number(pattern.exec(text)?.[1] ?? 0)
}

/** Opens a WebSocket by hand and then never reads another byte. */
function neverReader(port: number, room: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head))
      socket.pause()
      resolve(socket)
    }
    socket.on('data', onData)
    socket.write(`GET /${room} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)
  })
}

describe('a reader that never reads', () => {
  it(`is dropped past --max-buffered-bytes; relay memory stays within the bound (+${SLACK_MIB} MiB slack) while ${(FRAMES * FRAME_BYTES) / 2 ** 20} MiB flow`, async () => {
    const dataDir = await tempDataDir()
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const relay = await spawnRelay({
      dataDir,
      args: ['--max-buffered-bytes', String(MAX_BUFFERED), '--max-bytes-per-second', String(1024 ** 3), '--max-awareness-per-second', '100000', '--max-awareness-bytes', String(2 * FRAME_BYTES)],
    })
    cleanups.push(async () => {
      relay.kill('SIGTERM')
      await relay.waitExit()
    })
    // Awareness frames: the relay keeps only the latest state and stores nothing, so what
    // grows is what it buffers for the reader.
    const writer = await RawClient.connect(relay.url, 'slow')
    cleanups.push(() => writer.close())
    const frame = (clock: number): Uint8Array => awareness(1, clock, { blob: `${clock}`.padEnd(FRAME_BYTES - 64, 'x') })
    const push = async (from: number, to: number): Promise<void> => {
      for (let clock = from; clock < to; clock++) {
        writer.send(frame(clock))
        if (clock % 20 === 0) await waitFor(() => writer.ws.bufferedAmount < 4 * 1024 * 1024)
      }
      await waitFor(async () => (await metric(relay, /tandem_bytes_in_total (\d+)/)) >= (to - 1) * (FRAME_BYTES - 64), { timeoutMs: 60_000, message: 'frames received' })
    }
    await push(1, WARMUP) // warm the heap up: baseline after it
    const baseline = rssMiB(relay.pid)
    const reader = await neverReader(relay.port, 'slow')
    cleanups.push(() => reader.destroy())
    let peak = baseline
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(relay.pid))), 20)
    cleanups.push(() => clearInterval(sampler))
    await push(WARMUP, WARMUP + FRAMES)
    clearInterval(sampler)
    const dropped = await metric(relay, /tandem_limit_exceeded_total\{limit="buffered-bytes"\} (\d+)/)
    console.log(`slow reader: RSS baseline ${baseline.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB (+${(peak - baseline).toFixed(1)}), ${FRAMES} x ${FRAME_BYTES / 1024} KiB pushed, dropped=${dropped}`)
    expect(dropped).toBe(1)
    expect(await metric(relay, /tandem_connections (\d+)/)).toBe(1) // the writer only
    expect(peak - baseline).toBeLessThan(MAX_BUFFERED / 1024 / 1024 + SLACK_MIB)
    expect(writer.closeCode).toBeNull()
  }, 180_000)
})
