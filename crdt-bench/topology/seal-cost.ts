/**
 * What sealing peer frames costs per forwarded update (issue 21): the CPU of sealing a
 * relay-to-relay `update` frame at the sender and opening it at the receiver
 * (AES-256-GCM with a per-direction key and the frame's sequence number, relay/topology/
 * peer-seal.ts), measured in the same process as bench:topology's rows, on frames of the
 * size the benchmark forwards (one paced map entry per client update). In a mesh each
 * delivered update crosses one link, so this is the sealing cost per delivered update, and
 * its ratio to the row's CPU per delivered update is the share the sealing takes.
 *
 * @module
 */
import * as Y from 'yjs'
import { encodeFrame } from '../../relay/topology/peer-protocol.ts'
import { FrameOpener, FrameSealer } from '../../relay/topology/peer-seal.ts'
import { deriveKeys, createNonce } from '../../relay/topology/peer-auth.ts'
import { median } from '../servers/median.ts'

export interface SealCost {
  frames: number
  meanFrameBytes: number
  /** Encoding the frame once (what every link shares), µs per frame. */
  encodeUs: number
  /** Sealing plus opening one frame (what each link adds), µs per frame. */
  sealOpenUs: number
}

/** Updates as the benchmark's clients produce them: one map entry each, a timestamp value. */
function benchUpdates(count: number): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let k = 0; k < count; k++) doc.getMap('m').set(`live-${k % 5}-${k}`, performance.timeOrigin + performance.now())
  return updates
}

function cpuUs(fn: () => void): number {
  const t0 = process.cpuUsage()
  fn()
  const t = process.cpuUsage(t0)
  return t.user + t.system
}

/** Medians of `rounds` alternating rounds over `count` frames. */
export function measureSealCost(count = 20_000, rounds = 7): SealCost {
  const updates = benchUpdates(count).map((update) => ({ kind: 'update' as const, room: 'bench', path: ['r0'], update }))
  const frames = updates.map((u) => encodeFrame(u))
  const keys = deriveKeys('bench-secret', { version: 2, dialerId: 'r0', dialerNonce: createNonce(), listenerId: 'r1', listenerNonce: createNonce() })
  const encode: number[] = []
  const sealOpen: number[] = []
  let sink = 0
  for (let r = 0; r < rounds; r++) {
    encode.push(cpuUs(() => { for (const u of updates) sink += encodeFrame(u).length }) / count)
    const sealer = new FrameSealer(keys.frames.dialer)
    const opener = new FrameOpener(keys.frames.dialer)
    sealOpen.push(cpuUs(() => { for (const f of frames) sink += opener.open(sealer.seal(f)).length }) / count)
  }
  if (sink === 0) throw new Error('unreachable')
  return {
    frames: count,
    meanFrameBytes: frames.reduce((s, f) => s + f.length, 0) / count,
    encodeUs: median(encode),
    sealOpenUs: median(sealOpen),
  }
}
