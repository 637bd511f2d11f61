/**
 * STAND-IN for `relay/cli.ts` until the relay core is committed: the same topology flags,
 * a stand-in relay with the topology extension, pino logs on stdout.
 */
import { parseArgs } from 'node:util'
import { topologyExtension, parseTopology } from '../../../relay/topology/index.ts'
import { createStandinRelay } from './standin-relay.ts'

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '1234' },
    data: { type: 'string', default: './data' },
    id: { type: 'string' },
    peers: { type: 'string', default: '' },
    topology: { type: 'string', default: 'mesh' },
    hub: { type: 'string' },
    'peer-secret': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
  },
})
const port = Number(values.port)
const ext = topologyExtension({
  id: values.id ?? `${values.host}:${port}`,
  peers: values.peers.split(',').filter(Boolean),
  topology: parseTopology(values.topology),
  hub: values.hub,
  peerSecret: values['peer-secret'] ?? process.env.TANDEM_PEER_SECRET,
  backoff: { initialMs: 50, maxMs: 400 },
  resyncAfterMs: 1000,
})
const relay = await createStandinRelay({ host: values.host, port, data: values.data, logLevel: values['log-level'] }, { extensions: [ext] })
const stop = (): void => void relay.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
