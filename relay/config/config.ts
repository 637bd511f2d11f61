/**
 * The relay's configuration: CLI flags, environment, defaults — parsed once into one
 * typed object and passed down. Nothing deeper reads `process.env`.
 *
 * @module
 */
import { parseArgs } from 'node:util'
import { parseAuthSecrets } from '../auth/tokens.ts'

/** Every setting of a relay. */
export interface RelayConfig {
  /** Interface to listen on (`--host`, `HOST`). */
  host: string
  /** Port to listen on; 0 picks a free one (`--port`, `PORT`). */
  port: number
  /** LevelDB directory (`--data`, `TANDEM_DATA`). */
  data: string
  /** `leveldb` (default) or `memory` (`--storage`, `TANDEM_STORAGE`). */
  storage: 'leveldb' | 'memory'
  /** Largest accepted WebSocket frame or HTTP body (`--max-message-bytes`). */
  maxMessageBytes: number
  /** Unload a room this long after its last connection left (`--idle-ms`). */
  idleMs: number
  /**
   * Persist accepted updates in batches this often (`--flush-ms`): every room due in one tick
   * goes into one LevelDB batch, one fsync. Default 100: 5–6 % less CPU per delivered update
   * than 50 under bench:relay's load (fewer fsyncs and state-vector writes), acks ~50 ms later.
   */
  flushMs: number
  /** Directory of demo files served at `/` (`--static`). */
  static: string
  /** pino level (`--log-level`, `LOG_LEVEL`). */
  logLevel: string
  /**
   * Log output (`--log-format`, `TANDEM_LOG_FORMAT`): `json` lines, `pretty` (pino-pretty,
   * human-readable) or `auto` (default): pretty when stdout is a terminal, JSON otherwise.
   */
  logFormat: 'auto' | 'json' | 'pretty'
  /** This relay's id for peer links (`--id`, `TANDEM_ID`); default `host:port`. */
  id: string
  /** Peer relay URLs (`--peers`, `TANDEM_PEERS`, comma-separated ws:// URLs). */
  peers: string[]
  /** `mesh` (default), `star` or `ring` (`--topology`, `TANDEM_TOPOLOGY`). */
  topology: 'mesh' | 'star' | 'ring'
  /** Star topology: the hub's id (`--hub`, `TANDEM_HUB`). */
  hub: string | undefined
  /** Shared secret peer relays present (`--peer-secret`, `TANDEM_PEER_SECRET`). */
  peerSecret: string | undefined
  /**
   * What a type-100 "saved" acknowledgement survives (`--durability`, `TANDEM_DURABILITY`):
   * `sync` (default) — each LevelDB write group is fsynced, so a power cut or kernel crash;
   * `process` — written to the OS without fsync, so a crash of the relay process only.
   */
  durability: 'sync' | 'process'
  /** Compact a room's stored log from its live doc once this many bytes were appended since the last compaction (`--compact-bytes`). */
  compactBytes: number
  /**
   * Redis URL shared by relays that share rooms (`--redis`, `TANDEM_REDIS_URL`); none = no Redis.
   * `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS; the password is never logged.
   */
  redis: string | undefined
  /** CA certificate file (PEM) a `rediss://` Redis's certificate is verified against (`--redis-ca`, `TANDEM_REDIS_CA`); default: the system's CAs. */
  redisCa?: string | undefined
  /**
   * Serve the peer endpoint `/_peer` on its own address, `HOST:PORT`, and not on the client port
   * (`--peer-listen`, `TANDEM_PEER_LISTEN`), for example a private interface.
   */
  peerListen?: string | undefined
  /** Certificate chain (PEM) to serve TLS with: https:// and wss://, the peer listener too (`--tls-cert`, `TANDEM_TLS_CERT`); needs `tlsKey`. */
  tlsCert?: string | undefined
  /** Private key (PEM) of `tlsCert` (`--tls-key`, `TANDEM_TLS_KEY`). */
  tlsKey?: string | undefined
  /** CA certificate file (PEM) that `wss://` peers' certificates are verified against (`--peer-ca`, `TANDEM_PEER_CA`); default: the system's CAs. */
  peerCa?: string | undefined
  /** Name a `wss://` peer's certificate must carry, when it differs from the URL's host (`--peer-servername`, `TANDEM_PEER_SERVERNAME`). */
  peerServername?: string | undefined
  /** `--help` was given. */
  help: boolean
  /**
   * Testing only: storage writes fail while this file exists (`--fault-storage`,
   * `TANDEM_FAULT_STORAGE`); used by the fault campaign. Undefined in production.
   */
  faultStorage?: string | undefined
  /** `--version` was given: print the package version and exit. */
  version: boolean
  /**
   * Token secrets (`--auth-secret`, `TANDEM_AUTH_SECRET`): one secret, or `kid:secret,kid2:secret2`
   * (the first signs, all verify). Unset: the relay runs open.
   */
  authSecret: string | undefined
  /** Origins allowed to use the HTTP API (CORS) and the WebSocket upgrade (`--cors-origins`); empty = CORS off, Origin not checked. */
  corsOrigins: string[]
  /** Messages a connection may send per second, averaged (`--max-messages-per-second`). */
  maxMessagesPerSecond: number
  /** Bytes a connection may send per second, averaged (`--max-bytes-per-second`). */
  maxBytesPerSecond: number
  /** A connection held back by a rate limit this long without a break is closed (`--rate-limit-grace-ms`). */
  rateLimitGraceMs: number
  /** Open WebSocket connections per client IP (`--max-connections-per-ip`). */
  maxConnectionsPerIp: number
  /** Distinct rooms one IP may open per minute, WebSocket and HTTP (`--max-rooms-per-minute`). */
  maxRoomsPerMinute: number
  /** Frames held for a connection while its room loads (`--max-pending-messages`). */
  maxPendingMessages: number
  /** Largest awareness update (`--max-awareness-bytes`). */
  maxAwarenessBytes: number
  /** Awareness updates a connection may send per second (`--max-awareness-per-second`). */
  maxAwarenessPerSecond: number
  /** Bytes the relay buffers for one client before dropping it (`--max-buffered-bytes`). */
  maxBufferedBytes: number
  /** Largest HTTP request body (`--max-http-body-bytes`). */
  maxHttpBodyBytes: number
  /**
   * Addresses the per-IP limits do not apply to (`--per-ip-exempt`, comma-separated). Default
   * none: every address is limited, loopback included (a TLS proxy on the same machine should
   * pass its address here only if it enforces per-client limits itself).
   */
  perIpExempt: string[]
  /** Change feed: events older than this are deleted (`--feed-retention`, e.g. `24h`; ms here). */
  feedRetentionMs: number
  /** Change feed: at most this many events per room feed, and in the all-rooms feed (`--feed-max-events`). */
  feedMaxEvents: number
  /** Webhook endpoints (`--webhook URL`, repeatable; `TANDEM_WEBHOOKS`, comma-separated). */
  webhooks: string[]
  /** Standard Webhooks signing secret, `whsec_<base64>` (`--webhook-secret`, `TANDEM_WEBHOOK_SECRET`); required with `webhooks`. */
  webhookSecret: string | undefined
  /** `room.changed` is sent this long after a room's last change (`--webhook-debounce-ms`). */
  webhookDebounceMs: number
  /** ... and at most this long after its first change of a burst (`--webhook-max-wait-ms`). */
  webhookMaxWaitMs: number
  /** An endpoint failing this long is paused and reported (`--webhook-pause-after-ms`). */
  webhookPauseAfterMs: number
  /** Longest backoff between two attempts at a failing endpoint (`--webhook-retry-max-ms`; full jitter below it). */
  webhookRetryMaxMs: number
  /** `none` (thin payloads, default) or `json`: payloads carry the room's document JSON (`--webhook-include`). */
  webhookInclude: 'none' | 'json'
  /** The relay's address as its clients reach it, for the room URLs in webhook payloads (`--public-url`); default `http(s)://HOST:PORT`. */
  publicUrl?: string | undefined
  /** Document history (relay/history): `on` (default) or `off` (`--history`, `TANDEM_HISTORY`). */
  history: boolean
  /** A version is recorded once a room had no update for this long (`--history-quiet-ms`). */
  historyQuietMs: number
  /** Versions older than this are removed, named ones and each room's newest excepted (`--history-keep`, e.g. `90d`; 0 = for ever; ms here). */
  historyKeepMs: number
  /** At most this many versions per room; named ones are never removed (`--history-max`; 0 = no limit). */
  historyMax: number
}

/** Defaults used for anything not given. */
export const DEFAULT_CONFIG: Readonly<RelayConfig> = {
  host: '127.0.0.1',
  port: 1234,
  data: './data',
  storage: 'leveldb',
  maxMessageBytes: 1024 * 1024,
  idleMs: 30_000,
  flushMs: 100,
  static: 'editor/dist',
  logLevel: 'info',
  logFormat: 'auto',
  id: '',
  peers: [],
  topology: 'mesh',
  hub: undefined,
  peerSecret: undefined,
  durability: 'sync',
  compactBytes: 64 * 1024,
  redis: undefined,
  help: false,
  version: false,
  authSecret: undefined,
  corsOrigins: [],
  maxMessagesPerSecond: 2000,
  maxBytesPerSecond: 4 * 1024 * 1024,
  rateLimitGraceMs: 15_000,
  maxConnectionsPerIp: 256,
  maxRoomsPerMinute: 120,
  maxPendingMessages: 256,
  maxAwarenessBytes: 32 * 1024,
  maxAwarenessPerSecond: 60,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxHttpBodyBytes: 1024 * 1024,
  perIpExempt: [],
  feedRetentionMs: 24 * 3600 * 1000,
  feedMaxEvents: 100_000,
  webhooks: [],
  webhookSecret: undefined,
  webhookDebounceMs: 2000,
  webhookMaxWaitMs: 10_000,
  webhookPauseAfterMs: 3600 * 1000,
  webhookRetryMaxMs: 60_000,
  webhookInclude: 'none',
  history: true,
  historyQuietMs: 30_000,
  historyKeepMs: 90 * 86_400_000,
  historyMax: 500,
}

/** `--help` text. */
export const HELP = `tandem relay — y-websocket-compatible collaborative editing relay

Usage: npx tandem [options]        (in this repository: npm start -- [options])

Options (flag / environment variable, default):
  --host HOST                    HOST                       127.0.0.1
  --port PORT                    PORT                       1234
  --data DIR                     TANDEM_DATA                ./data
  --storage leveldb|memory       TANDEM_STORAGE             leveldb
  --max-message-bytes N          TANDEM_MAX_MESSAGE_BYTES   1048576 (1 MiB)
  --idle-ms MS                   TANDEM_IDLE_MS             30000
  --flush-ms MS                  TANDEM_FLUSH_MS            100
  --static DIR                   TANDEM_STATIC              editor/dist
  --log-level LEVEL              LOG_LEVEL                  info
  --log-format json|pretty       TANDEM_LOG_FORMAT          pretty on a terminal, else json
  --id ID                        TANDEM_ID                  HOST:PORT
  --peers URL,URL                TANDEM_PEERS               (none)
  --topology mesh|star|ring      TANDEM_TOPOLOGY            mesh
  --hub ID                       TANDEM_HUB                 (none; required for star)
  --peer-secret SECRET           TANDEM_PEER_SECRET         (none)
  --durability sync|process      TANDEM_DURABILITY          sync
  --compact-bytes N              TANDEM_COMPACT_BYTES       65536 (64 KiB)
  --fault-storage FILE           TANDEM_FAULT_STORAGE       (testing: storage writes fail while FILE exists)
  --auth-secret SECRET|KID:SECRET,KID:SECRET
                                 TANDEM_AUTH_SECRET         (none: the relay runs OPEN)
  --cors-origins ORIGIN,ORIGIN   TANDEM_CORS_ORIGINS        (none: CORS off)
  --max-messages-per-second N    TANDEM_MAX_MESSAGES_PER_SECOND  2000
  --max-bytes-per-second N       TANDEM_MAX_BYTES_PER_SECOND     4194304 (4 MiB)
  --rate-limit-grace-ms MS       TANDEM_RATE_LIMIT_GRACE_MS      15000
  --max-connections-per-ip N     TANDEM_MAX_CONNECTIONS_PER_IP   256
  --max-rooms-per-minute N       TANDEM_MAX_ROOMS_PER_MINUTE     120 (per IP)
  --max-pending-messages N       TANDEM_MAX_PENDING_MESSAGES     256
  --max-awareness-bytes N        TANDEM_MAX_AWARENESS_BYTES      32768
  --max-awareness-per-second N   TANDEM_MAX_AWARENESS_PER_SECOND 60
  --max-buffered-bytes N         TANDEM_MAX_BUFFERED_BYTES       8388608 (8 MiB)
  --max-http-body-bytes N        TANDEM_MAX_HTTP_BODY_BYTES      1048576 (1 MiB)
  --per-ip-exempt IP,IP|none     TANDEM_PER_IP_EXEMPT            none (loopback is limited too)
  --peer-listen HOST:PORT        TANDEM_PEER_LISTEN         (none: /_peer on the client port)
  --tls-cert FILE                TANDEM_TLS_CERT            (none: plain http/ws)
  --tls-key FILE                 TANDEM_TLS_KEY             (none)
  --peer-ca FILE                 TANDEM_PEER_CA             (system CAs: verifies wss:// peers)
  --peer-servername NAME         TANDEM_PEER_SERVERNAME     (the peer URL's host)
  --redis redis[s]://[USER:PASS@]HOST:PORT
                                 TANDEM_REDIS_URL           (none; share rooms with every relay on it)
  --redis-ca FILE                TANDEM_REDIS_CA            (system CAs: verifies rediss://)
  --feed-retention DURATION      TANDEM_FEED_RETENTION      24h (change feed kept this long: 90s, 30m, 24h, 7d)
  --feed-max-events N            TANDEM_FEED_MAX_EVENTS     100000 (per room feed, and the all-rooms feed)
  --webhook URL                  TANDEM_WEBHOOKS            (none; repeatable; the env is comma-separated)
  --webhook-secret whsec_BASE64  TANDEM_WEBHOOK_SECRET      (none; required with --webhook)
  --webhook-debounce-ms MS       TANDEM_WEBHOOK_DEBOUNCE_MS      2000
  --webhook-max-wait-ms MS       TANDEM_WEBHOOK_MAX_WAIT_MS      10000
  --webhook-pause-after-ms MS    TANDEM_WEBHOOK_PAUSE_AFTER_MS   3600000 (1 h)
  --webhook-retry-max-ms MS      TANDEM_WEBHOOK_RETRY_MAX_MS     60000 (longest backoff of a failing endpoint)
  --webhook-include none|json    TANDEM_WEBHOOK_INCLUDE     none (json: payloads carry the document)
  --public-url URL               TANDEM_PUBLIC_URL          http(s)://HOST:PORT (room URLs in webhooks)
  --history on|off               TANDEM_HISTORY             on (document history: versions, restore)
  --history-quiet-ms MS          TANDEM_HISTORY_QUIET_MS    30000 (a version once a room is quiet this long)
  --history-keep DURATION|forever
                                 TANDEM_HISTORY_KEEP        90d (named versions and the newest are kept)
  --history-max N                TANDEM_HISTORY_MAX         500 (versions per room; 0 = no limit)
  --help                         print this text
  --version                      print the version
`

/** Thrown on an invalid flag or value; the CLI prints it with {@link HELP}. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function integer(name: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = value.trim() === '' ? NaN : Number(value)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any' : max}, got ${JSON.stringify(value)}`)
  }
  return n
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Flag combinations that parse one by one but cannot run together (one clear message each). */
function checkCombinations(c: RelayConfig, explicitId: boolean): void {
  if (explicitId && c.id.trim() === '') throw new ConfigError('--id must not be empty')
  if (c.host.trim() === '') throw new ConfigError('--host must not be empty')
  if (c.storage === 'leveldb' && c.data.trim() === '') throw new ConfigError('--data must not be empty with --storage leveldb')
  const seen = new Set<string>()
  for (const peer of c.peers) {
    if (seen.has(peer)) throw new ConfigError(`--peers lists ${peer} twice`)
    seen.add(peer)
  }
  if (c.hub !== undefined && c.hub.trim() === '') throw new ConfigError('--hub must not be empty')
  if (c.topology === 'star' && !c.hub) throw new ConfigError("--topology star needs --hub (the hub relay's id)")
  if (c.topology === 'star' && c.hub !== c.id && c.peers.length === 0) {
    throw new ConfigError(`--topology star: this relay (${c.id}) is a spoke and needs --peers with the hub's URL`)
  }
  if (c.topology === 'ring' && c.peers.length === 0) throw new ConfigError('--topology ring needs --peers (the next relay of the ring)')
  const clustered = c.peers.length > 0 || c.topology !== 'mesh' || c.hub !== undefined
  if (clustered && !c.peerSecret) throw new ConfigError('peer links (--peers, --topology, --hub) need --peer-secret or TANDEM_PEER_SECRET')
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key go together')
  if (c.redisCa !== undefined && !c.redis?.startsWith('rediss://')) throw new ConfigError('--redis-ca needs a rediss:// --redis URL')
  if (c.peerListen !== undefined && !c.peerSecret) throw new ConfigError('--peer-listen needs --peer-secret or TANDEM_PEER_SECRET')
  if (c.faultStorage !== undefined && c.storage !== 'leveldb') throw new ConfigError('--fault-storage needs --storage leveldb')
  if (c.webhooks.length > 0 && !c.webhookSecret) throw new ConfigError('--webhook needs --webhook-secret (TANDEM_WEBHOOK_SECRET): whsec_ and a base64 key')
  if (c.webhookMaxWaitMs < c.webhookDebounceMs) throw new ConfigError('--webhook-max-wait-ms must not be below --webhook-debounce-ms')
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return value as T
}

/** Parses flags (`argv` without node and script) and `env` into a {@link RelayConfig}. Flags win over env. */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): RelayConfig {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        storage: { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'idle-ms': { type: 'string' },
        'flush-ms': { type: 'string' },
        static: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        id: { type: 'string' },
        peers: { type: 'string' },
        topology: { type: 'string' },
        hub: { type: 'string' },
        'peer-secret': { type: 'string' },
        durability: { type: 'string' },
        'compact-bytes': { type: 'string' },
        'fault-storage': { type: 'string' },
        'auth-secret': { type: 'string' },
        'cors-origins': { type: 'string' },
        'max-messages-per-second': { type: 'string' },
        'max-bytes-per-second': { type: 'string' },
        'rate-limit-grace-ms': { type: 'string' },
        'max-connections-per-ip': { type: 'string' },
        'max-rooms-per-minute': { type: 'string' },
        'max-pending-messages': { type: 'string' },
        'max-awareness-bytes': { type: 'string' },
        'max-awareness-per-second': { type: 'string' },
        'max-buffered-bytes': { type: 'string' },
        'max-http-body-bytes': { type: 'string' },
        'per-ip-exempt': { type: 'string' },
        redis: { type: 'string' },
        'redis-ca': { type: 'string' },
        'peer-listen': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'peer-ca': { type: 'string' },
        'peer-servername': { type: 'string' },
        'feed-retention': { type: 'string' },
        history: { type: 'string' },
        'history-quiet-ms': { type: 'string' },
        'history-keep': { type: 'string' },
        'history-max': { type: 'string' },
        'feed-max-events': { type: 'string' },
        webhook: { type: 'string', multiple: true },
        'webhook-secret': { type: 'string' },
        'webhook-debounce-ms': { type: 'string' },
        'webhook-max-wait-ms': { type: 'string' },
        'webhook-pause-after-ms': { type: 'string' },
        'webhook-retry-max-ms': { type: 'string' },
        'webhook-include': { type: 'string' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }).values
  } catch (error) {
    // node:util's messages can run over several sentences; keep the first (one line).
    throw new ConfigError(((error as Error).message.split(/\. |\n/)[0] ?? 'bad arguments').replace(/\.$/, ''))
  }
  const pick = (flag: string, envName: string): string | undefined => {
    const v = values[flag]
    return typeof v === 'string' ? v : env[envName] === '' ? undefined : env[envName]
  }
  const d = DEFAULT_CONFIG
  const host = pick('host', 'HOST') ?? d.host
  const portRaw = pick('port', 'PORT')
  const port = portRaw === undefined ? d.port : integer('--port', portRaw, 0, 65535)
  const storageRaw = pick('storage', 'TANDEM_STORAGE')
  const maxRaw = pick('max-message-bytes', 'TANDEM_MAX_MESSAGE_BYTES')
  const idleRaw = pick('idle-ms', 'TANDEM_IDLE_MS')
  const flushRaw = pick('flush-ms', 'TANDEM_FLUSH_MS')
  const topologyRaw = pick('topology', 'TANDEM_TOPOLOGY')
  const peersRaw = pick('peers', 'TANDEM_PEERS')
  const durabilityRaw = pick('durability', 'TANDEM_DURABILITY')
  const compactRaw = pick('compact-bytes', 'TANDEM_COMPACT_BYTES')
  const logFormatRaw = pick('log-format', 'TANDEM_LOG_FORMAT')
  const peers = (peersRaw ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  for (const peer of peers) {
    if (!/^wss?:\/\//.test(peer) || !URL.canParse(peer)) throw new ConfigError(`--peers entries must be ws:// or wss:// URLs, got ${JSON.stringify(peer)}`)
  }
  const logRaw = pick('log-level', 'LOG_LEVEL')
  const idRaw = pick('id', 'TANDEM_ID')
  const redis = pick('redis', 'TANDEM_REDIS_URL')
  if (redis !== undefined && !/^rediss?:\/\/[^/]/.test(redis)) {
    // Whatever sits before an @ may be a password: never echo it.
    throw new ConfigError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redis.replace(/\/\/[^@/]*@/, '//***@'))}`)
  }
  const config: RelayConfig = {
    host,
    port,
    data: pick('data', 'TANDEM_DATA') ?? d.data,
    storage: storageRaw === undefined ? d.storage : oneOf('--storage', storageRaw, ['leveldb', 'memory'] as const),
    maxMessageBytes: maxRaw === undefined ? d.maxMessageBytes : integer('--max-message-bytes', maxRaw, 1),
    idleMs: idleRaw === undefined ? d.idleMs : integer('--idle-ms', idleRaw, 0),
    flushMs: flushRaw === undefined ? d.flushMs : integer('--flush-ms', flushRaw, 0),
    static: pick('static', 'TANDEM_STATIC') ?? d.static,
    logLevel: logRaw === undefined ? d.logLevel : oneOf('--log-level', logRaw, LOG_LEVELS),
    logFormat: logFormatRaw === undefined ? d.logFormat : oneOf('--log-format', logFormatRaw, ['json', 'pretty', 'auto'] as const),
    id: idRaw ?? `${host}:${port}`,
    peers,
    topology: topologyRaw === undefined ? d.topology : oneOf('--topology', topologyRaw, ['mesh', 'star', 'ring'] as const),
    hub: pick('hub', 'TANDEM_HUB'),
    peerSecret: pick('peer-secret', 'TANDEM_PEER_SECRET'),
    durability: durabilityRaw === undefined ? d.durability : oneOf('--durability', durabilityRaw, ['sync', 'process'] as const),
    compactBytes: compactRaw === undefined ? d.compactBytes : integer('--compact-bytes', compactRaw, 1),
    redis,
    help: values.help === true,
    faultStorage: pick('fault-storage', 'TANDEM_FAULT_STORAGE'),
    version: values.version === true,
    authSecret: authSecret(pick('auth-secret', 'TANDEM_AUTH_SECRET')),
    corsOrigins: (pick('cors-origins', 'TANDEM_CORS_ORIGINS') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    maxMessagesPerSecond: limit('max-messages-per-second', d.maxMessagesPerSecond),
    maxBytesPerSecond: limit('max-bytes-per-second', d.maxBytesPerSecond),
    rateLimitGraceMs: limit('rate-limit-grace-ms', d.rateLimitGraceMs, 0),
    maxConnectionsPerIp: limit('max-connections-per-ip', d.maxConnectionsPerIp),
    maxRoomsPerMinute: limit('max-rooms-per-minute', d.maxRoomsPerMinute),
    maxPendingMessages: limit('max-pending-messages', d.maxPendingMessages),
    maxAwarenessBytes: limit('max-awareness-bytes', d.maxAwarenessBytes),
    maxAwarenessPerSecond: limit('max-awareness-per-second', d.maxAwarenessPerSecond),
    maxBufferedBytes: limit('max-buffered-bytes', d.maxBufferedBytes),
    maxHttpBodyBytes: limit('max-http-body-bytes', d.maxHttpBodyBytes),
    perIpExempt: addressList(pick('per-ip-exempt', 'TANDEM_PER_IP_EXEMPT'), d.perIpExempt),
    redisCa: pick('redis-ca', 'TANDEM_REDIS_CA'),
    peerListen: hostPort('--peer-listen', pick('peer-listen', 'TANDEM_PEER_LISTEN')),
    tlsCert: pick('tls-cert', 'TANDEM_TLS_CERT'),
    tlsKey: pick('tls-key', 'TANDEM_TLS_KEY'),
    peerCa: pick('peer-ca', 'TANDEM_PEER_CA'),
    peerServername: pick('peer-servername', 'TANDEM_PEER_SERVERNAME'),
    feedRetentionMs: duration('--feed-retention', pick('feed-retention', 'TANDEM_FEED_RETENTION'), d.feedRetentionMs),
    feedMaxEvents: limit('feed-max-events', d.feedMaxEvents),
    webhooks: webhookUrls(Array.isArray(values.webhook) ? values.webhook : (env.TANDEM_WEBHOOKS ?? '').split(',')),
    webhookSecret: webhookSecret(pick('webhook-secret', 'TANDEM_WEBHOOK_SECRET')),
    webhookDebounceMs: limit('webhook-debounce-ms', d.webhookDebounceMs, 0),
    webhookMaxWaitMs: limit('webhook-max-wait-ms', d.webhookMaxWaitMs, 0),
    webhookPauseAfterMs: limit('webhook-pause-after-ms', d.webhookPauseAfterMs, 0),
    webhookRetryMaxMs: limit('webhook-retry-max-ms', d.webhookRetryMaxMs),
    webhookInclude: oneOf('--webhook-include', pick('webhook-include', 'TANDEM_WEBHOOK_INCLUDE') ?? d.webhookInclude, ['none', 'json'] as const),
    publicUrl: httpUrl('--public-url', pick('public-url', 'TANDEM_PUBLIC_URL')),
    history: oneOf('--history', pick('history', 'TANDEM_HISTORY') ?? 'on', ['on', 'off'] as const) === 'on',
    historyQuietMs: limit('history-quiet-ms', d.historyQuietMs),
    historyKeepMs: pick('history-keep', 'TANDEM_HISTORY_KEEP')?.trim() === 'forever' ? 0 : duration('--history-keep', pick('history-keep', 'TANDEM_HISTORY_KEEP'), d.historyKeepMs),
    historyMax: limit('history-max', d.historyMax, 0),
  }
  if (!config.help && !config.version) checkCombinations(config, idRaw !== undefined)
  return config

  /** An integer limit: flag, else `TANDEM_<FLAG>` env, else the default. */
  function limit(flag: string, fallback: number, min = 1): number {
    const raw = pick(flag, `TANDEM_${flag.toUpperCase().replaceAll('-', '_')}`)
    return raw === undefined ? fallback : integer(`--${flag}`, raw, min)
  }
}

/** `HOST:PORT` (IPv6 hosts in brackets, `[::1]:7000`), checked; undefined stays undefined. */
function hostPort(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(value.trim())
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`${name} must be HOST:PORT (IPv6 as [::1]:PORT), got ${JSON.stringify(value)}`)
  return value.trim()
}

/** Splits a checked `HOST:PORT` into its parts (brackets of an IPv6 host removed). */
export function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':')
  return { host: value.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(value.slice(i + 1)) }
}

/** `--per-ip-exempt`: comma-separated addresses, or `none`. */
function addressList(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return [...fallback]
  if (value.trim() === 'none') return []
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

/** `90s`, `30m`, `24h`, `7d` or `500ms` → milliseconds. */
function duration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim())
  if (!m || Number(m[1]) <= 0) throw new ConfigError(`${name} must be a duration such as 90s, 30m, 24h or 7d, got ${JSON.stringify(value)}`)
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
}

/** An http:// or https:// URL, checked; undefined stays undefined. */
function httpUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (!/^https?:\/\//.test(trimmed) || !URL.canParse(trimmed)) throw new ConfigError(`${name} must be an http:// or https:// URL, got ${JSON.stringify(trimmed.replace(/\/\/[^@/]*@/, '//***@'))}`)
  return trimmed
}

/** `--webhook` URLs (empty entries skipped, each once). */
function webhookUrls(values: string[]): string[] {
  const urls = values.map((s) => s.trim()).filter(Boolean).map((u) => httpUrl('--webhook', u) as string)
  const seen = new Set<string>()
  for (const url of urls) {
    if (seen.has(url)) throw new ConfigError(`--webhook lists ${url.replace(/\/\/[^@/]*@/, '//***@')} twice`)
    seen.add(url)
  }
  return urls
}

/** `whsec_` and a base64 key of at least 16 bytes (the Standard Webhooks format); never echoed. */
function webhookSecret(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  const key = trimmed.startsWith('whsec_') ? trimmed.slice(6) : ''
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || Buffer.from(key, 'base64').length < 16) {
    throw new ConfigError('--webhook-secret must be whsec_ followed by a base64 key of at least 16 bytes (e.g. whsec_$(openssl rand -base64 32))')
  }
  return trimmed
}

/** Checks `--auth-secret` (parsed again, into keys, by the relay). */
function authSecret(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    parseAuthSecrets(value)
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
  return value
}

/** Fills a partial config (as tests and embedders pass) with defaults. */
export function resolveConfig(partial: Partial<RelayConfig>): RelayConfig {
  const merged = { ...DEFAULT_CONFIG, ...partial }
  if (!partial.id) merged.id = `${merged.host}:${merged.port}`
  return merged
}
