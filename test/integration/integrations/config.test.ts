/**
 * The integrations' flags: webhooks need a Standard Webhooks secret (never echoed), URLs are
 * checked, `--webhook` repeats and `TANDEM_WEBHOOKS` is comma-separated, `--feed-retention`
 * takes a duration; a relay refuses to start with `--webhook` but no secret (exit 2).
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ConfigError, parseConfig } from '../../../relay/config/config.ts'
import { WEBHOOK_SECRET } from './helpers.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

describe('integrations flags', () => {
  it('parses the feed and webhook flags, flags over env', () => {
    const c = parseConfig(['--webhook', 'http://a.example/hook', '--webhook', 'https://b.example/x?k=1', '--webhook-secret', WEBHOOK_SECRET, '--feed-retention', '90m', '--webhook-include', 'json', '--public-url', 'https://relay.example'], {})
    expect(c.webhooks).toEqual(['http://a.example/hook', 'https://b.example/x?k=1'])
    expect(c.feedRetentionMs).toBe(90 * 60_000)
    expect(c.webhookInclude).toBe('json')
    expect(c.publicUrl).toBe('https://relay.example')
    expect([c.webhookDebounceMs, c.webhookMaxWaitMs, c.webhookPauseAfterMs, c.feedMaxEvents]).toEqual([2000, 10_000, 3_600_000, 100_000])
    const e = parseConfig([], { TANDEM_WEBHOOKS: 'http://a.example/1, http://a.example/2', TANDEM_WEBHOOK_SECRET: WEBHOOK_SECRET, TANDEM_FEED_RETENTION: '7d' })
    expect(e.webhooks).toEqual(['http://a.example/1', 'http://a.example/2'])
    expect(e.feedRetentionMs).toBe(7 * 86_400_000)
    expect(parseConfig(['--webhook', 'http://c.example/', '--webhook-secret', WEBHOOK_SECRET], { TANDEM_WEBHOOKS: 'http://a.example/1' }).webhooks).toEqual(['http://c.example/'])
  })

  it('refuses webhooks without a secret, a secret not in the whsec_ format (without echoing it), bad URLs and durations', () => {
    const refused = (argv: string[]) => {
      try {
        parseConfig(argv, {})
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
      throw new Error(`accepted ${argv.join(' ')}`)
    }
    expect(refused(['--webhook', 'http://a.example/'])).toMatch(/--webhook needs --webhook-secret/)
    const bad = refused(['--webhook', 'http://a.example/', '--webhook-secret', 'hunter2-not-whsec'])
    expect(bad).toMatch(/whsec_/)
    expect(bad).not.toContain('hunter2')
    expect(refused(['--webhook-secret', 'whsec_c2hvcnQ='])).toMatch(/at least 16 bytes/)
    expect(refused(['--webhook', 'ftp://a.example/', '--webhook-secret', WEBHOOK_SECRET])).toMatch(/http:\/\/ or https:\/\//)
    expect(refused(['--webhook', 'http://a.example/', '--webhook', 'http://a.example/', '--webhook-secret', WEBHOOK_SECRET])).toMatch(/twice/)
    expect(refused(['--feed-retention', '24'])).toMatch(/duration/)
    expect(refused(['--webhook-include', 'xml'])).toMatch(/none, json/)
    expect(refused(['--webhook-debounce-ms', '5000', '--webhook-max-wait-ms', '1000'])).toMatch(/max-wait/)
  })

  it('a relay started with --webhook but no secret exits 2 with one line', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'relay/cli.ts', '--port', '0', '--storage', 'memory', '--webhook', 'http://127.0.0.1:9/hook'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 })
    expect(result.status).toBe(2)
    expect(result.stderr.trim()).toBe('tandem relay: --webhook needs --webhook-secret (TANDEM_WEBHOOK_SECRET): whsec_ and a base64 key (see --help)')
  }, 40_000)
})
