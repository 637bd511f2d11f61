/**
 * The Redis URL: what ioredis is given (password, ACL user, TLS verified against a CA) and
 * what logs, `/health` and errors show (the password replaced by `***`).
 *
 * `redis://HOST:PORT`, `redis://:PASSWORD@HOST:PORT` (the default user),
 * `redis://USER:PASSWORD@HOST:PORT` (an ACL user), each with an optional `/DB`; `rediss://`
 * connects with TLS and verifies the server's certificate (the system's CAs, or `ca`).
 *
 * @module
 */
import type { RedisOptions as IoRedisOptions } from 'ioredis'

/** `url` with its password replaced by `***` (the user name stays: it says which ACL user). */
export function redactRedisUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Not a URL (config.ts refuses those): show nothing that could be a password.
    return url.replace(/\/\/[^@/]*@/, '//***@')
  }
  if (parsed.password === '') return url
  parsed.password = '***'
  return parsed.toString()
}

/** An ioredis error without what could hold the password (`command.args` of a failed `AUTH`). */
export function redisError(err: unknown): { type: string; message: string } {
  const e = err as Error
  return { type: e?.name ?? 'Error', message: e?.message ?? String(err) }
}

/**
 * The connection options ioredis takes beside the URL: with `ca` (PEM), a `rediss://` server's
 * certificate is verified against it instead of the system's CAs (never unverified).
 */
export function tlsOptions(url: string, ca: string | Buffer | undefined): Pick<IoRedisOptions, 'tls'> {
  if (!url.startsWith('rediss://')) {
    if (ca !== undefined) throw new Error('a Redis CA needs a rediss:// URL')
    return {}
  }
  return { tls: { rejectUnauthorized: true, ...(ca !== undefined ? { ca } : {}) } }
}

/** True when Redis refused the credentials (wrong password, unknown or disabled user, none given, or a user without the rights). */
export function isAuthFailure(message: string): boolean {
  return /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(message)
}
