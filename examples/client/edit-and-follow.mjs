#!/usr/bin/env node
// tandem/client in a few lines: edit a room with JSON operations, read it back as markdown, then
// follow its change feed (resumed after any drop). Run against a relay (`npm start` or `npx tandem`):
//
//   node examples/client/edit-and-follow.mjs [http://127.0.0.1:1234] [room] [--max-events N]
//
// With --auth-secret on the relay, pass a write token: TANDEM_TOKEN=$(npm run -s token -- --room example) …
import { TandemClient } from 'tandem/client'

const args = process.argv.slice(2)
const flag = args.indexOf('--max-events')
const maxEvents = flag >= 0 ? Number(args.splice(flag, 2)[1]) : Infinity
const [url = 'http://127.0.0.1:1234', room = 'example'] = args
const tandem = new TandemClient({ url, token: process.env.TANDEM_TOKEN })

// 1. one edit, all or nothing: a line of text, a heading, a counter
const before = await tandem.read(room, 'prosemirror')
await tandem.edit(room, [
  ...(before ? [] : [{ op: 'insertText', at: 1, text: 'Notes' }, { op: 'setBlockType', at: 1, type: 'heading', attrs: { level: 1 } }]),
  { op: 'insertBlocks', at: 'end', blocks: [{ type: 'paragraph', content: [{ type: 'text', text: `Visited at ${new Date().toISOString()}`, marks: [{ type: 'em' }] }] }] },
  { op: 'increment', name: 'visits' },
])

// 2. the room as markdown
console.log(await tandem.read(room, 'markdown'))

// 3. its changes, as they happen (Ctrl-C to stop)
const stop = new AbortController()
process.once('SIGINT', () => stop.abort())
let seen = 0
await tandem.events(room, {
  signal: stop.signal,
  onOpen: () => console.log(`following ${room} …`),
  onEvent: (event) => {
    if (event.type === 'reset') console.log(`reset (${event.reason}): read the room again`)
    else console.log(`changed ${event.time} by ${event.authors.map((a) => a.name ?? a.id).join(', ') || 'someone'} (event ${event.id})`)
    if (++seen >= maxEvents) stop.abort()
  },
  onError: (error) => console.error(`feed dropped (${error.message ?? error}); reconnecting`),
})
