import { describe, expect, it } from 'vitest'
import { ConfigError, HELP, parseConfig } from '../../../relay/config/config.ts'
import { compareStreamIds, redisKeys } from '../../../relay/redis/index.ts'

describe('--redis / TANDEM_REDIS_URL', () => {
  it('is off by default, read from env, flag over env', () => {
    expect(parseConfig([], {}).redis).toBeUndefined()
    expect(parseConfig([], { TANDEM_REDIS_URL: 'redis://r:6379' }).redis).toBe('redis://r:6379')
    expect(parseConfig(['--redis', 'rediss://s:6380'], { TANDEM_REDIS_URL: 'redis://r:6379' }).redis).toBe('rediss://s:6380')
    expect(HELP).toContain('--redis')
    expect(HELP).toContain('TANDEM_REDIS_URL')
  })
  it('refuses anything but a redis:// or rediss:// URL', () => {
    expect(() => parseConfig(['--redis', 'http://r:6379'], {})).toThrow(ConfigError)
    expect(() => parseConfig(['--redis', 'redis://'], {})).toThrow(/redis:\/\//)
  })
})

describe('Redis keys and stream ids', () => {
  it('keeps a room\'s keys in one hash slot', () => {
    const k = redisKeys()
    expect(k.log('team/doc')).toBe('tandem:{team/doc}:log')
    expect(k.acks('team/doc')).toBe('tandem:{team/doc}:acks')
  })
  it('orders stream ids numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0)
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0)
    expect(compareStreamIds('1732470000000-5', '1732470000000-5')).toBe(0)
    expect(compareStreamIds('1732470000001-0', '1732470000000-99')).toBeGreaterThan(0)
  })
})
