/**
 * Launches Debian's Chromium through playwright-core (no browser download). The path comes
 * from CHROMIUM_PATH, else /usr/bin/chromium; a missing browser is a test failure with a clear
 * message, never a skip.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

/** The Chromium executable the browser suites use. */
export function chromiumPath(): string {
  return process.env['CHROMIUM_PATH'] || '/usr/bin/chromium'
}

/** Starts a headless Chromium; each `browser.newContext()` is a fresh profile (own IndexedDB). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. The browser tests need Debian's chromium ` +
        '(apt-get install chromium) or CHROMIUM_PATH pointing at a Chromium binary; they do not skip.',
    )
  }
  // playwright adds --headless and a fresh temporary --user-data-dir itself.
  return chromium.launch({ executablePath, headless: true, args: ARGS, timeout: 30_000 })
}
