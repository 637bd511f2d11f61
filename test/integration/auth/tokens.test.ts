import { describe, expect, it } from 'vitest'
import { parseAuthSecrets, roomMatches, signToken, verifyToken } from '../../../relay/auth/tokens.ts'
import { parseConfig, resolveConfig, ConfigError, HELP } from '../../../relay/config/config.ts'
import { RateGate, TokenBucket } from '../../../relay/connection/limits.ts'
import { SignJWT } from 'jose'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

describe('tokens', () => {
  it('room patterns: exact names, prefixes ending in /, *', () => {
    expect(roomMatches('notes', 'notes')).toBe(true)
    expect(roomMatches('notes', 'notes2')).toBe(false)
    expect(roomMatches('team-a/', 'team-a/x')).toBe(true)
    expect(roomMatches('team-a/', 'team-a/x/y')).toBe(true)
    expect(roomMatches('team-a/', 'team-ab')).toBe(false)
    expect(roomMatches('team-a/', 'team-a')).toBe(false)
    expect(roomMatches('team-a/', 'team-a/')).toBe(false)
    expect(roomMatches('*', 'anything')).toBe(true)
  })

  it('--auth-secret: bare secret, kid:secret lists; short secrets and repeated kids refused', () => {
    expect(parseAuthSecrets('0123456789abcdef').map((k) => k.kid)).toEqual(['k1'])
    expect(parseAuthSecrets('new:0123456789abcdef, old:fedcba9876543210').map((k) => k.kid)).toEqual(['new', 'old'])
    expect(() => parseAuthSecrets('short')).toThrow(/shorter than 16/)
    expect(() => parseAuthSecrets('a:0123456789abcdef,a:0123456789abcdeg')).toThrow(/twice/)
    expect(() => parseConfig(['--auth-secret', 'short'], {})).toThrow(ConfigError)
    expect(parseConfig([], { TANDEM_AUTH_SECRET: '0123456789abcdef' }).authSecret).toBe('0123456789abcdef')
  })

  it('verifies kid, signature, expiry and claim shapes; refuses alg none', async () => {
    const [key] = parseAuthSecrets('k:0123456789abcdef0123')
    const good = await signToken(key!, { rooms: ['r'], right: 'read', ttlSeconds: 60, jti: 'j1' })
    expect(await verifyToken(good, [key!])).toMatchObject({ ok: true, claims: { rooms: ['r'], right: 'read', jti: 'j1' } })
    expect(await verifyToken(good, parseAuthSecrets('k:another-secret-0123'))).toMatchObject({ ok: false, failure: 'bad-signature' })
    expect(await verifyToken(good, parseAuthSecrets('z:0123456789abcdef0123'))).toMatchObject({ ok: false, failure: 'unknown-key' })
    const body = good.split('.')[1]
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k' })).toString('base64url')}.${body}.`
    expect((await verifyToken(none, [key!])).ok).toBe(false)
    const noExp = await new SignJWT({ rooms: ['r'], right: 'write' }).setProtectedHeader({ alg: 'HS256', kid: 'k' }).sign(key!.secret)
    expect(await verifyToken(noExp, [key!])).toMatchObject({ ok: false })
    const badRight = await new SignJWT({ rooms: ['r'], right: 'admin' }).setProtectedHeader({ alg: 'HS256', kid: 'k' }).setExpirationTime('1h').sign(key!.secret)
    expect(await verifyToken(badRight, [key!])).toMatchObject({ ok: false, failure: 'bad-claims' })
  })
})

describe('npm run token', () => {
  it('prints a token the relay accepts for the room, right and lifetime asked', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url))
    const secret = 'new:0123456789abcdef0123,old:fedcba9876543210fedc'
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--room', 'notes', '--right', 'read', '--ttl', '1h'], {
      cwd: root,
      env: { ...process.env, TANDEM_AUTH_SECRET: secret },
      encoding: 'utf8',
    }).trim()
    const result = await verifyToken(out, parseAuthSecrets(secret))
    expect(result).toMatchObject({ ok: true, claims: { rooms: ['notes'], right: 'read' } })
    if (result.ok) expect(result.claims.exp - Date.now() / 1000).toBeGreaterThan(3500)
    expect(JSON.parse(Buffer.from(out.split('.')[0]!, 'base64url').toString()).kid).toBe('new')
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--room', 'x'], { cwd: root, env: { ...process.env, TANDEM_AUTH_SECRET: '' }, stdio: 'pipe' })).toThrow()
  })
})

describe('limits', () => {
  it('token bucket: burst, then the rate; debt is waited out', () => {
    const b = new TokenBucket(10, 10, 0)
    for (let i = 0; i < 10; i++) expect(b.take(1, 0)).toBe(0)
    expect(b.take(1, 0)).toBe(100)
    expect(b.take(1, 100)).toBe(100)
    expect(b.take(1, 1000)).toBe(0)
  })

  it('rate gate: held back continuously past the grace means cut; a break resets the streak', () => {
    const gate = new RateGate({ messagesPerSecond: 10, bytesPerSecond: 1e9, awarenessPerSecond: 10, maxMessageBytes: 1, graceMs: 500 }, 0)
    for (let i = 0; i < 10; i++) expect(gate.check(1, false, 0)).toBeNull()
    let t = 0
    let hold = gate.check(1, false, t)
    while (hold && !hold.cut) hold = gate.check(1, false, (t += 100))
    expect(hold?.cut).toBe(true)
    expect(t).toBeLessThanOrEqual(600)
    const calm = new RateGate({ messagesPerSecond: 10, bytesPerSecond: 1e9, awarenessPerSecond: 10, maxMessageBytes: 1, graceMs: 500 }, 0)
    for (let i = 0; i < 11; i++) calm.check(1, false, 0)
    expect(calm.check(1, false, 5000)).toBeNull()
  })

  it('every limit flag parses from flag and env and is in --help', () => {
    const flags = ['max-messages-per-second', 'max-bytes-per-second', 'rate-limit-grace-ms', 'max-connections-per-ip', 'max-rooms-per-minute', 'max-pending-messages', 'max-awareness-bytes', 'max-awareness-per-second', 'max-buffered-bytes', 'max-http-body-bytes']
    for (const flag of flags) {
      const field = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ReturnType<typeof parseConfig>
      expect(parseConfig([`--${flag}`, '7'], {})[field]).toBe(7)
      expect(parseConfig([], { [`TANDEM_${flag.toUpperCase().replaceAll('-', '_')}`]: '9' })[field]).toBe(9)
      expect(() => parseConfig([`--${flag}`, 'x'], {})).toThrow(ConfigError)
      expect(HELP).toContain(`--${flag}`)
    }
    expect(parseConfig(['--cors-origins', 'https://a, https://b'], {}).corsOrigins).toEqual(['https://a', 'https://b'])
    // Default: no address is exempt, loopback included (issue 21: a TLS proxy on the same host was unlimited).
    expect(parseConfig([], {}).perIpExempt).toEqual([])
    expect(resolveConfig({}).perIpExempt).toEqual([])
    expect(parseConfig(['--per-ip-exempt', '127.0.0.1, ::1'], {}).perIpExempt).toEqual(['127.0.0.1', '::1'])
    expect(parseConfig(['--per-ip-exempt', 'none'], {}).perIpExempt).toEqual([])
    expect(parseConfig([], { TANDEM_PER_IP_EXEMPT: '10.0.0.1' }).perIpExempt).toEqual(['10.0.0.1'])
  })
})
