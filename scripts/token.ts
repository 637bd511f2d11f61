/**
 * `npm run token -- --room notes --right write --ttl 1h` prints a signed token.
 *
 * Options: `--room NAME` (repeatable; a name ending in `/` is a prefix, `*` is every room),
 * `--right read|write` (default write), `--ttl 30s|15m|1h|7d|SECONDS` (default 1h),
 * `--admin` (may use the deny-list API), `--jti ID` (default: random), `--secret S`
 * (default: `TANDEM_AUTH_SECRET`; same format as `--auth-secret`, the first key signs),
 * `--json` (print `{ token, jti, exp }`).
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { randomUUID } from 'node:crypto'
import { parseAuthSecrets, signToken, type Right } from '../relay/auth/tokens.ts'

const USAGE = 'usage: npm run token -- --room NAME [--room PREFIX/] [--right read|write] [--ttl 1h] [--admin] [--jti ID] [--secret S | TANDEM_AUTH_SECRET] [--json]\n'

/** Parses `30s`, `15m`, `1h`, `7d` or plain seconds. */
export function parseTtl(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim())
  if (!m) throw new Error(`--ttl must look like 30s, 15m, 1h, 7d or a number of seconds, got ${JSON.stringify(value)}`)
  const n = Number(m[1])
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
  if (n <= 0) throw new Error('--ttl must be positive')
  return n * unit
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      room: { type: 'string', multiple: true },
      right: { type: 'string', default: 'write' },
      ttl: { type: 'string', default: '1h' },
      admin: { type: 'boolean', default: false },
      jti: { type: 'string' },
      secret: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  const secret = values.secret ?? process.env.TANDEM_AUTH_SECRET
  if (!secret) throw new Error('no secret: pass --secret or set TANDEM_AUTH_SECRET (the relay\'s --auth-secret)')
  const rooms = values.room ?? []
  if (rooms.length === 0 && !values.admin) throw new Error('name at least one --room (or give --admin)')
  if (values.right !== 'read' && values.right !== 'write') throw new Error('--right must be read or write')
  const key = parseAuthSecrets(secret)[0]!
  const ttlSeconds = parseTtl(values.ttl)
  const jti = values.jti ?? randomUUID()
  const token = await signToken(key, { rooms, right: values.right as Right, ttlSeconds, admin: values.admin, jti })
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds
  process.stdout.write(values.json ? `${JSON.stringify({ token, jti, exp, kid: key.kid })}\n` : `${token}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n${USAGE}`)
  process.exit(2)
})
