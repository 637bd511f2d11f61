/**
 * examples/client/edit-and-follow.mjs runs as the README says (`node`, importing `tandem/client`
 * from the built package): it edits a room, prints it as markdown, follows the feed and prints a
 * change someone else makes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { waitFor } from '../../fixtures/wait.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
let r: StartedRelay

beforeAll(async () => {
  // dist/ up to date (incremental: about a second when nothing changed)
  await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, timeout: 240_000 })
  r = await startRelay()
}, 300_000)
afterAll(async () => {
  await r?.stop()
})

describe('examples/client/edit-and-follow.mjs', () => {
  it('edits, prints markdown, follows the feed and prints the next change', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['examples/client/edit-and-follow.mjs', r.httpUrl, 'walkthrough', '--max-events', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      await waitFor(() => out.includes('following walkthrough'), { timeoutMs: 30_000, message: `the example to follow the feed (output: ${out})` })
      expect(out).toMatch(/^# Notes\n\n\*Visited at \d{4}-\d\d-\d\dT[^*]+\*\n/)
      const res = await fetch(`${r.httpUrl}/api/rooms/walkthrough`, { method: 'PATCH', body: JSON.stringify({ ops: [{ op: 'insertText', at: 'end', text: '!' }] }) })
      expect(res.status).toBe(200)
      expect(await exited).toBe(0)
      expect(out).toMatch(/changed \d{4}-\d\d-\d\dT\S+ by someone \(event \S+\)\n$/)
    } finally {
      child.kill()
    }
  })
})
