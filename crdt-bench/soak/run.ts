/**
 * `npm run bench:soak` — 100 rooms, 1,000 connections opening and closing with random edits
 * and random bad frames, against one relay on real LevelDB. Prints whether every room's
 * stored state equals its clients' and how the relay's heap after the load compares with its
 * baseline (ratio), and exits non-zero when either fails.
 *
 * Flags: --rooms N (100), --sessions N (1000), --concurrency N (50), --seed N (random, printed),
 *        --max-heap-ratio R (1.35: compiled code and V8 feedback add a few MiB on first use,
 *        as heap snapshots before/after show; leaking ~10 KiB of state a session would add
 *        ~10 MiB over 1,000 sessions and exceed it).
 */
import { runSoak } from './soak.ts'

function arg(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

const seed = arg('--seed', Math.floor(Math.random() * 2 ** 31))
const maxRatio = arg('--max-heap-ratio', 1.35)
process.stdout.write(`soak: seed ${seed}\n`)
const result = await runSoak({
  rooms: arg('--rooms', 100),
  sessions: arg('--sessions', 1000),
  concurrency: arg('--concurrency', 50),
  seed,
  log: (line) => process.stdout.write(`${line}\n`),
})
process.stdout.write(
  [
    `soak: ${result.sessions} sessions (${result.badSessions} with bad frames), ${result.edits} edits in ${result.seconds.toFixed(1)} s`,
    `soak: stored state equals clients' in ${arg('--rooms', 100) - result.mismatched.length}/${arg('--rooms', 100)} rooms${result.mismatched.length ? ` (differ: ${result.mismatched.join(', ')})` : ''}`,
    `soak: relay heap baseline ${result.heapBaselineMiB.toFixed(1)} MiB, peak ${result.heapPeakMiB.toFixed(1)} MiB, after ${result.heapAfterMiB.toFixed(1)} MiB — ratio after/baseline ${result.heapRatio.toFixed(2)} (bound ${maxRatio})`,
    `soak: after the load ${result.roomsLoadedAfter} rooms loaded, ${result.connectionsAfter} connections`,
  ].join('\n') + '\n',
)
const ok = result.mismatched.length === 0 && result.heapRatio <= maxRatio && result.roomsLoadedAfter === 0 && result.connectionsAfter === 0
process.stdout.write(ok ? 'soak: OK\n' : 'soak: FAILED\n')
process.exit(ok ? 0 : 1)
