/**
 * The campaign notices a relay that exits by itself (a crash is a finding, not a fault it
 * injected): an exit nobody asked for is recorded and reported once, the campaign's own
 * kill -9 and graceful stop are not.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RelayProcess, relayPorts } from '../../../scripts/chaos/relay-process.ts'
import { waitFor } from '../../fixtures/wait.ts'

let relay: RelayProcess | null = null
let dir = ''
afterEach(async () => {
  await relay?.dispose()
  await rm(dir, { recursive: true, force: true })
})

describe('chaos relay process', () => {
  it('records an exit nobody asked for, not its own kill -9 or stop', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-chaos-proc-'))
    const [port] = await relayPorts(1, Math.random)
    relay = new RelayProcess({
      id: 'r0', port: port as number, dataDir: join(dir, 'data'), faultFile: join(dir, 'fault'), logFile: join(dir, 'r0.log'),
      topology: 'mesh', peers: [], secret: '',
    })
    const seen: number[] = []
    relay.onCrash = (crash) => void seen.push(crash.start)
    await relay.start()
    await relay.kill9()
    await relay.start()
    await relay.stop()
    expect(relay.crashes).toEqual([])

    await relay.start()
    process.kill(relay.pid as number, 'SIGKILL') // from outside: to the campaign, a crash
    await waitFor(() => !relay!.running, { message: 'the relay gone' })
    expect(relay.crashes).toHaveLength(1)
    expect(relay.crashes[0]).toMatchObject({ signal: 'SIGKILL', start: 3 })
    expect(seen).toEqual([3])
  }, 120_000)
})
