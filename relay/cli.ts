#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8
/**
 * `npm start` and the `tandem` bin (`npx tandem`): parse flags and env once, start the relay
 * (with the topology extension when peers are configured), print the URL, shut down
 * gracefully on SIGINT/SIGTERM. Runs as compiled JavaScript (dist/relay/cli.js) in production
 * and as TypeScript under tsx in the test suites; both find the package root from here.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, DEFAULT_CONFIG, HELP, parseConfig } from './config/config.ts'
import { createRelay } from './server/server.ts'
import { createLogger } from './observability/logger.ts'
import { readPemFile } from './config/pem-files.ts'
import type { RelayExtension } from './server/extension.ts'

/** The nearest directory above this module holding a package.json: the tandem package. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('tandem: package.json not found above relay/cli')
    dir = parent
  }
  return dir
}

/** A ConfigError found after parsing (a file named by a flag that cannot be read): one line on stderr, exit 2. */
function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`tandem relay: ${error.message} (see --help)\n`)
  process.exit(2)
}

let config
try {
  config = parseConfig(process.argv.slice(2), process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`tandem relay: ${error.message} (see --help)\n`)
  process.exit(2)
}
if (config.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const root = packageRoot()
if (config.version) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  process.stdout.write(`${pkg.version}\n`)
  process.exit(0)
}
// The default demo directory is the package's own editor/dist, wherever tandem is installed
// (`npx tandem` in another project); an explicit --static stays relative to the cwd.
if (config.static === DEFAULT_CONFIG.static) config.static = resolve(root, DEFAULT_CONFIG.static)
const logger = createLogger(config.logLevel, process.stdout, { format: config.logFormat })
const extensions: RelayExtension[] = []
// Accept-only relays (a mesh member nobody lists yet, a star hub) start it with a peer secret.
// Both are imported only when configured: a relay without peers or Redis never loads them (nor ioredis).
if (config.peers.length > 0 || config.hub || config.peerSecret) {
  const { topologyExtension, parseTopology } = await import('./topology/index.ts')
  let peerCa: Buffer | undefined
  try {
    peerCa = config.peerCa === undefined ? undefined : readPemFile('--peer-ca', config.peerCa)
  } catch (error) {
    exitOnConfigError(error)
  }
  extensions.push(
    topologyExtension({
      id: config.id,
      peers: config.peers,
      topology: parseTopology(config.topology),
      hub: config.hub,
      peerSecret: config.peerSecret,
      maxMessageBytes: config.maxMessageBytes,
      peerListen: config.peerListen,
      peerCa,
      peerServername: config.peerServername,
    }),
  )
}
if (config.redis) {
  const { redisExtension } = await import('./redis/index.ts')
  let ca: Buffer | undefined
  try {
    ca = config.redisCa === undefined ? undefined : readPemFile('--redis-ca', config.redisCa)
  } catch (error) {
    exitOnConfigError(error)
  }
  extensions.push(redisExtension({ url: config.redis, id: config.id, ...(ca ? { ca } : {}) }))
}
const relay = await createRelay(config, { extensions, logger }).catch(exitOnConfigError)
logger.info({ url: relay.url, http: relay.httpUrl, data: config.storage === 'leveldb' ? config.data : null, storage: config.storage }, `tandem relay ready at ${relay.httpUrl} (WebSocket rooms at ${relay.url}/<room>)`)
process.stdout.write(`tandem relay listening on ${relay.httpUrl} (ws ${relay.url}/<room>)\n`)

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down: flushing storage, closing sockets')
  relay.close().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed')
      process.exit(1)
    },
  )
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
