/**
 * What a suite of demo-page tests in Chromium starts once and closes at the end: the browser,
 * the built demo served by a static server (so the page stays loadable while the relay is down),
 * and a relay (`startTestRelay`, LevelDB on disk). Call {@link demoHarness} at the top of a suite
 * file; its fields are set when the suite's first test runs.
 */
import { afterAll, beforeAll } from 'vitest'
import type { Browser } from 'playwright-core'
import { buildEditor } from '../../editor/build.ts'
import { launchChromium } from './chromium.ts'
import { serveStatic, type StaticServer } from './static-server.ts'
import { startTestRelay, type TestRelay } from './relay.ts'
import type { DemoTarget } from './demo-page.ts'

/** The suite's browser, page server, relay, and where {@link openDemo} finds them. */
export interface DemoHarness {
  browser: Browser
  pages: StaticServer
  relay: TestRelay
  target: DemoTarget
}

/** Registers the suite's `beforeAll` (build, start) and `afterAll` (close); returns the harness it fills. */
export function demoHarness(): DemoHarness {
  const harness = {} as DemoHarness
  beforeAll(async () => {
    const { distDir } = await buildEditor()
    ;[harness.browser, harness.pages, harness.relay] = await Promise.all([launchChromium(), serveStatic(distDir), startTestRelay()])
    harness.target = { pageUrl: harness.pages.url, relay: harness.relay.url }
  }, 120_000)
  afterAll(async () => {
    await harness.browser?.close()
    await harness.pages?.close()
    await harness.relay?.dispose()
  })
  return harness
}
