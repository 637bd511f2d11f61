/**
 * Reconnect delays: exponential, capped, with "full jitter" (a uniform pick in
 * [base/2, cap]) so relays that lost each other at once do not redial in lockstep.
 *
 * @module
 */

export interface BackoffOptions {
  /** First delay, ms. */
  initialMs: number
  /** Upper bound for any delay, ms. */
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 }

/**
 * The delay before attempt `attempt` (0-based). `random` returns a number in [0, 1).
 * Always within [initialMs/2, maxMs].
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30))
  const low = Math.min(options.initialMs / 2, exp)
  return Math.round(low + (exp - low) * random())
}
