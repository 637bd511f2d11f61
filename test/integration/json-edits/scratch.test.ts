/**
 * JSON edits run on a scratch copy of the room kept between requests (`relay/edits/scratch.ts`):
 * the copy follows everything the room gains between two edits (typing, deletions), and a
 * refused request leaves nothing in it that the next request could build on.
 */
import { describe, expect, it } from 'vitest'
import { connectProvider } from '../../fixtures/clients.ts'
import { waitFor } from '../../fixtures/wait.ts'
import { BLOCKS_TEXT } from '../../../editor/blocks/layout.ts'
import { docOf, editorDoc, p, patch, seedRoom } from './helpers.ts'
import { cleanupAfterEach, relayStarter } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
const relay = relayStarter(cleanups)

async function roomDoc(httpUrl: string, room: string): Promise<unknown> {
  return (await fetch(`${httpUrl}/api/rooms/${room}?format=prosemirror`)).json()
}

describe('JSON edits on a kept scratch copy', () => {
  it('sees what a client typed and deleted between two edits, and a refused edit leaves no trace in the next', async () => {
    const r = await relay()
    await seedRoom(r.httpUrl, 'kept', docOf(p('Hello')))
    const c = await connectProvider(r.url, 'kept')
    cleanups.push(() => c.destroy())
    await waitFor(() => editorDoc(c.doc).eq(docOf(p('Hello'))), { message: 'client synced' })

    expect((await patch(r.httpUrl, 'kept', { ops: [{ op: 'insertText', at: 1, text: 'A' }] })).status).toBe(200)
    await waitFor(() => editorDoc(c.doc).eq(docOf(p('AHello'))), { message: 'first edit seen' })

    // the client types at the end and deletes "Hel" between two edits
    const text = c.doc.getText(BLOCKS_TEXT)
    // the Y.Text's index of "Hello": its string plus the block markers (embeds, one unit each) before it
    let at = 0
    for (const part of text.toDelta() as Array<{ insert: unknown }>) {
      if (typeof part.insert !== 'string') at++
      else if (part.insert.includes('Hello')) {
        at += part.insert.indexOf('Hello')
        break
      } else at += part.insert.length
    }
    c.doc.transact(() => {
      text.insert(at + 5, ' world')
      text.delete(at, 3)
    })
    await waitFor(async () => JSON.stringify(await roomDoc(r.httpUrl, 'kept')) === JSON.stringify(docOf(p('Alo world')).toJSON()), { message: 'the relay has the typing' })
    expect((await patch(r.httpUrl, 'kept', { ops: [{ op: 'insertText', at: 'end', text: '!' }, { op: 'insertText', at: 2, text: 'B' }] })).status).toBe(200)
    await waitFor(() => editorDoc(c.doc).eq(docOf(p('ABlo world!'))), { message: 'second edit on the caught-up copy' })

    // a request whose second op is refused: its first op must not reach the next request's copy
    const refused = await patch(r.httpUrl, 'kept', { ops: [{ op: 'insertText', at: 1, text: 'X' }, { op: 'insertText', at: 999, text: 'never' }] })
    expect(refused.status).toBe(400)
    expect(String(refused.json['reason'])).toMatch(/ops\[1\]/)
    const next = await patch(r.httpUrl, 'kept', { ops: [{ op: 'insertText', at: 1, text: 'Y' }] })
    expect(next.status).toBe(200)
    const expected = docOf(p('YABlo world!'))
    await waitFor(() => editorDoc(c.doc).eq(expected), { message: 'the edit after the refused one, without its first op' })
    expect(await roomDoc(r.httpUrl, 'kept')).toEqual(expected.toJSON())
  })
})
