/**
 * Malformed JSON edits: each refused with 400 `invalid-operation` (or 401/403/413) naming the op's
 * index, the op and the reason, and NOTHING of a refused request applied — the room's state
 * vector and delete set unchanged, and a connected client receives nothing (checked by sending a
 * valid edit last: updates arrive in order, so had a refused request sent anything, the client
 * would count more than one update when the valid edit shows up).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { parseAuthSecrets, signToken } from '../../../relay/auth/tokens.ts'
import { docOf, editorDoc, h, p, patch, roomFingerprint, schema, seedRoom } from './helpers.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

/**
 * The seeded document: heading 0..7 ("Title" 1..6), paragraph 7..20 ("Hello world" 8..19), code
 * block 20..27 ("x = 1" 21..26), bullet list 27..37 (item 28, its paragraph 29, "item" 30..34).
 */
const SEED = docOf(
  h(1, 'Title'),
  p('Hello world'),
  schema.node('code_block', null, [schema.text('x = 1')]),
  schema.node('bullet_list', null, [schema.node('list_item', null, [p('item')])]),
)
const SIZE = 37

const ok = { op: 'insertText', at: 1, text: 'A' }
/** Arrays nested `levels` deep. */
function nested(levels: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = [value]
  return value
}
/** Blockquotes nested `levels` deep around a paragraph, as JSON text (a stack-overflow attempt). */
function deep(levels: number): string {
  return '{"type":"blockquote","content":['.repeat(levels) + '{"type":"paragraph"}' + ']}'.repeat(levels)
}
const many = Array.from({ length: 1001 }, () => ok)

/** [what is sent, the expected reason (exact string or pattern)]. */
const CASES: Array<[string, unknown, string | RegExp]> = [
  ['junk JSON', 'not json {', /^body is not JSON: /],
  ['a JSON array', '[]', 'body must be a JSON object {"ops": [...]}'],
  ['no ops list', { op: 'insertText' }, 'body must be a JSON object {"ops": [...]}'],
  ['an extra body field', { ops: [ok], dryRun: true }, 'unknown field "dryRun" in the body (only "ops")'],
  ['empty ops', { ops: [] }, 'ops is empty'],
  ['too many ops', { ops: many }, 'too many operations: 1001 (at most 1000 per request)'],
  ['an op that is not an object', { ops: [ok, 42] }, 'ops[1]: an operation must be an object {"op": "...", ...}'],
  ['no op name', { ops: [{ at: 1, text: 'x' }] }, 'ops[0]: missing "op" (a string naming the operation)'],
  ['an unknown op', { ops: [ok, { op: 'explode' }] }, /^ops\[1\] \(explode\): unknown operation \(known: insertText, insertBlocks, delete, setBlockType, setKey, deleteKey, increment, addToSet, removeFromSet, setRegister\)$/],
  ['an unknown field', { ops: [{ op: 'insertText', at: 1, text: 'x', mark: [] }] }, 'ops[0] (insertText): unknown field "mark" (insertText takes at, text, marks)'],
  ['a missing field', { ops: [{ op: 'setKey', name: 'm', value: 1 }] }, 'ops[0] (setKey): missing field "key"'],
  ['a position as a string', { ops: [{ op: 'insertText', at: '5', text: 'x' }] }, 'ops[0] (insertText): at must be a non-negative integer or "end", got "5"'],
  ['a negative position', { ops: [{ op: 'delete', from: -1, to: 3 }] }, 'ops[0] (delete): from must be a non-negative integer, got -1'],
  ['a fractional position', { ops: [{ op: 'setBlockType', at: 1.5, type: 'paragraph' }] }, 'ops[0] (setBlockType): at must be a non-negative integer, got 1.5'],
  ['text as a number', { ops: [{ op: 'insertText', at: 1, text: 5 }] }, 'ops[0] (insertText): text must be a non-empty string'],
  ['empty text', { ops: [{ op: 'insertText', at: 1, text: '' }] }, 'ops[0] (insertText): text must be a non-empty string'],
  ['marks not a list', { ops: [{ op: 'insertText', at: 1, text: 'x', marks: 'strong' }] }, 'ops[0] (insertText): marks must be an array of marks ({"type":"strong"})'],
  // after two one-character inserts the document is 39 long
  ['a position past the end (after two valid ops)', { ops: [ok, ok, { op: 'insertText', at: 9999, text: 'x' }] }, `ops[2] (insertText): position 9999 is past the end of the document (length ${SIZE + 2})`],
  ['text inside an emoji', { ops: [{ op: 'insertText', at: 1, text: '😀' }, { op: 'insertText', at: 2, text: 'x' }] }, 'ops[1] (insertText): position 2 is inside a character (between the two halves of a surrogate pair)'],
  ['a delete ending inside an emoji', { ops: [{ op: 'insertText', at: 1, text: '😀' }, { op: 'delete', from: 1, to: 2 }] }, 'ops[1] (delete): position 2 is inside a character (between the two halves of a surrogate pair)'],
  ['text between blocks', { ops: [{ op: 'insertText', at: 7, text: 'x' }] }, /^ops\[0\] \(insertText\): position 7 is between blocks, not inside a text block/],
  ['an unknown mark', { ops: [{ op: 'insertText', at: 1, text: 'x', marks: [{ type: 'underline' }] }] }, 'ops[0] (insertText): marks[0]: There is no mark type underline in this schema'],
  ['a link without href', { ops: [{ op: 'insertText', at: 1, text: 'x', marks: [{ type: 'link' }] }] }, 'ops[0] (insertText): marks[0]: Expected value of type string for attribute href on type link, got null'],
  ['bold in a code block', { ops: [{ op: 'insertText', at: 22, text: 'x', marks: [{ type: 'strong' }] }] }, 'ops[0] (insertText): marks[0]: a code_block does not allow the mark strong'],
  ['a block of an unknown type', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'table' }] }] }, 'ops[0] (insertBlocks): blocks[0]: Unknown node type: table'],
  ['a paragraph holding a heading', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'paragraph', content: [{ type: 'heading', attrs: { level: 1 } }] }] }] }, /^ops\[0\] \(insertBlocks\): blocks\[0\]: Invalid content for node paragraph/],
  ['a heading of level 9', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'heading', attrs: { level: 9 }, content: [{ type: 'text', text: 'x' }] }] }] }, "ops[0] (insertBlocks): blocks[0]: a heading's level must be an integer from 1 to 6, got 9"],
  ['an unknown attribute', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'paragraph', attrs: { color: 'red' } }] }] }, 'ops[0] (insertBlocks): blocks[0]: Unsupported attribute color for node of type paragraph'],
  ['an empty text node', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }] }] }, /^ops\[0\] \(insertBlocks\): blocks\[0\]: Empty text nodes are not allowed/],
  ['a text node as a block', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'text', text: 'x' }] }] }, 'ops[0] (insertBlocks): blocks[0]: a text is not a block'],
  ['blocks inside text', { ops: [{ op: 'insertBlocks', at: 3, blocks: [{ type: 'paragraph' }] }] }, 'ops[0] (insertBlocks): position 3 is inside the text of a heading: blocks go between blocks (before it at 0, after it at 7)'],
  ['a list item outside a list', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'list_item', content: [{ type: 'paragraph' }] }] }] }, 'ops[0] (insertBlocks): list_item cannot stand at position 0, inside the document (its content is "block+")'],
  ['blocks nested past the depth limit', `{"ops":[{"op":"insertBlocks","at":0,"blocks":[${deep(20_000)}]}]}`, 'ops[0] (insertBlocks): blocks[0]: nested deeper than 32 levels'],
  ['blocks not a list', { ops: [{ op: 'insertBlocks', at: 0, blocks: {} }] }, 'ops[0] (insertBlocks): blocks must be a non-empty array of ProseMirror nodes'],
  ['an empty range', { ops: [{ op: 'delete', from: 5, to: 5 }] }, 'ops[0] (delete): from must be less than to (from 5, to 5)'],
  ['a range past the end', { ops: [{ op: 'delete', from: 5, to: 999 }] }, `ops[0] (delete): position 999 is past the end of the document (length ${SIZE})`],
  ['a misspelt attribute', { ops: [{ op: 'setBlockType', at: 1, type: 'heading', attrs: { levle: 2 } }] }, 'ops[0] (setBlockType): attrs: Unsupported attribute levle for node of type heading'],
  ['an unknown mark attribute', { ops: [{ op: 'insertText', at: 1, text: 'x', marks: [{ type: 'link', attrs: { href: 'https://a.example', target: '_blank' } }] }] }, 'ops[0] (insertText): marks[0]: Unsupported attribute target for mark of type link'],
  ['an unknown attribute deep inside a block', { ops: [{ op: 'insertBlocks', at: 0, blocks: [{ type: 'bullet_list', content: [{ type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'em', attrs: { x: 1 } }] }] }] }] }] }] }, 'ops[0] (insertBlocks): blocks[0].content[0].content[0].content[0].marks[0]: Unsupported attribute x for mark of type em'],
  ['an op named __proto__', { ops: [{ op: '__proto__' }] }, /^ops\[0\] \(__proto__\): unknown operation/],
  ['an op named constructor', { ops: [{ op: 'constructor' }] }, /^ops\[0\] \(constructor\): unknown operation/],
  ['a map key __proto__', { ops: [{ op: 'setKey', name: 'meta', key: '__proto__', value: { polluted: true } }] }, 'ops[0] (setKey): key "__proto__" cannot be read back as JSON'],
  ['a list as a block type', { ops: [{ op: 'setBlockType', at: 1, type: 'bullet_list' }] }, 'ops[0] (setBlockType): type must be a text block type (paragraph, heading, code_block), got "bullet_list"'],
  ['a heading level as text', { ops: [{ op: 'setBlockType', at: 1, type: 'heading', attrs: { level: 'big' } }] }, /^ops\[0\] \(setBlockType\): attrs: /],
  ['a heading as a list item’s first block', { ops: [{ op: 'setBlockType', at: 31, type: 'heading', attrs: { level: 2 } }] }, 'ops[0] (setBlockType): a heading cannot stand at position 29, inside a list_item (a list item starts with a paragraph)'],
  ['a block type where no text block is', { ops: [{ op: 'setBlockType', at: 28, type: 'paragraph' }] }, 'ops[0] (setBlockType): no text block at position 28 (give a position inside the block, or right before it)'],
  ['a map key on the editor’s document', { ops: [{ op: 'setKey', name: 'blocks', key: 'k', value: 1 }] }, 'ops[0] (setKey): "blocks" is the editor\'s document: change it with insertText, insertBlocks, delete or setBlockType'],
  ['a map key on a CRDT’s root', { ops: [{ op: 'setKey', name: 'crdt:counter:likes', key: 'k', value: 1 }] }, 'ops[0] (setKey): names starting with "crdt:" hold the CRDTs: use increment, addToSet, removeFromSet or setRegister'],
  ['a map key on a text root', { ops: [{ op: 'setKey', name: 'title', key: 'k', value: 1 }] }, 'ops[0] (setKey): the root "title" holds a sequence (text, array or XML), not a map'],
  ['a counter over a text root', { ops: [{ op: 'increment', name: 'clash' }] }, 'ops[0] (increment): the root "crdt:counter:clash" holds a sequence (text, array or XML), not a map'],
  ['a fractional increment', { ops: [{ op: 'increment', name: 'likes', by: 1.5 }] }, 'ops[0] (increment): by must be a non-zero safe integer, got 1.5'],
  ['an increment by a string', { ops: [{ op: 'increment', name: 'likes', by: '2' }] }, 'ops[0] (increment): by must be a non-zero safe integer, got "2"'],
  ['a counter past the safe integers', { ops: [{ op: 'increment', name: 'big', by: Number.MAX_SAFE_INTEGER }, { op: 'increment', name: 'big', by: Number.MAX_SAFE_INTEGER }] }, 'ops[1] (increment): the counter "big" would leave the safe integer range'],
  // (sent as text: JSON.stringify itself would overflow)
  ['a map value nested 100,000 deep', `{"ops":[{"op":"setKey","name":"meta","key":"k","value":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`, 'ops[0] (setKey): value is nested deeper than 64 levels'],
  ['a set element nested 65 deep', { ops: [{ op: 'addToSet', name: 'tags', value: nested(65) }] }, 'ops[0] (addToSet): value is nested deeper than 64 levels'],
  ['an empty CRDT name', { ops: [{ op: 'addToSet', name: '', value: 1 }] }, 'ops[0] (addToSet): name must be a non-empty string'],
  ['an unknown register kind', { ops: [{ op: 'setRegister', name: 'r', value: 1, kind: 'max' }] }, 'ops[0] (setRegister): kind must be "mv" or "lww", got "max"'],
]

describe('PATCH /api/rooms/:room refuses malformed edits, and applies nothing of them', () => {
  it('each malformed body or op: 400 invalid-operation with its reason; state unchanged; a connected client receives nothing', async () => {
    const r = await relay()
    await seedRoom(r.httpUrl, 'bad', SEED)
    // roots of other kinds, for the kind clashes
    const other = new Y.Doc()
    other.getText('title').insert(0, 'a text root')
    other.getText('crdt:counter:clash').insert(0, 'not a counter')
    await fetch(`${r.httpUrl}/api/rooms/bad/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(other)) })
    const client = await connectProvider(r.url, 'bad')
    cleanups.push(() => client.destroy())
    let updates = 0
    client.doc.on('update', () => updates++)
    const before = await roomFingerprint(r.httpUrl, 'bad')

    for (const [what, body, reason] of CASES) {
      const res = await patch(r.httpUrl, 'bad', body)
      expect(res.status, what).toBe(400)
      expect(res.json['error'], what).toBe('invalid-operation')
      if (typeof reason === 'string') expect(res.json['reason'], what).toBe(reason)
      else expect(res.json['reason'], what).toMatch(reason)
      expect(await roomFingerprint(r.httpUrl, 'bad'), `${what}: nothing applied`).toBe(before)
    }
    // a valid edit last: the client sees it as its first update since it synced
    expect((await patch(r.httpUrl, 'bad', { ops: [{ op: 'insertText', at: 1, text: 'My ' }] })).status).toBe(200)
    await waitFor(() => editorDoc(client.doc).firstChild?.textContent === 'My Title', { message: 'the valid edit' })
    expect(updates).toBe(1)
    expect(editorDoc(client.doc).textContent).toBe('My TitleHello worldx = 1item')
  })

  it('a body over --max-http-body-bytes: 413 before it is read whole', async () => {
    const r = await relay({ maxHttpBodyBytes: 2048 })
    await seedRoom(r.httpUrl, 'big', docOf(p('x')))
    const before = await roomFingerprint(r.httpUrl, 'big')
    const res = await patch(r.httpUrl, 'big', { ops: [{ op: 'insertText', at: 1, text: 'y'.repeat(4096) }] })
    expect(res.status).toBe(413)
    expect(res.json['error']).toBe('too-large')
    expect(await roomFingerprint(r.httpUrl, 'big')).toBe(before)
  })

  it('with --auth-secret: no token 401, a read token 403 read-only, a token for another room 403; nothing applied', async () => {
    const secret = 'json-edits-refusals-0123456789'
    const r = await relay({ authSecret: secret })
    const key = parseAuthSecrets(secret)[0]!
    const writer = await signToken(key, { rooms: ['guarded'], right: 'write', ttlSeconds: 600 })
    const reader = await signToken(key, { rooms: ['guarded'], right: 'read', ttlSeconds: 600 })
    const elsewhere = await signToken(key, { rooms: ['other'], right: 'write', ttlSeconds: 600 })
    const edit = { ops: [{ op: 'setKey', name: 'meta', key: 'k', value: 1 }] }
    expect((await patch(r.httpUrl, 'guarded', edit, writer)).status).toBe(200)
    const state = async (): Promise<string> => {
      const res = await fetch(`${r.httpUrl}/api/rooms/guarded/update`, { headers: { authorization: `Bearer ${reader}` } })
      return Buffer.from(await res.arrayBuffer()).toString('hex')
    }
    const before = await state()
    const refused = { ops: [{ op: 'setKey', name: 'meta', key: 'k', value: 2 }] }
    const none = await patch(r.httpUrl, 'guarded', refused)
    expect([none.status, none.json['error']]).toEqual([401, 'unauthorized'])
    const read = await patch(r.httpUrl, 'guarded', refused, reader)
    expect([read.status, read.json['error']]).toEqual([403, 'read-only'])
    const other = await patch(r.httpUrl, 'guarded', refused, elsewhere)
    expect([other.status, other.json['error']]).toEqual([403, 'forbidden'])
    expect(await state()).toBe(before)
    // the refused requests never loaded or created a room either
    const stranger = await patch(r.httpUrl, 'never', refused, reader)
    expect(stranger.status).toBe(403)
    expect(await r.relay.storage.getStateVector('never')).toBeNull()
  })
})
