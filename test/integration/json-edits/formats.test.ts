/**
 * `GET /api/rooms/:room?format=json|prosemirror|markdown|text`: the editor's document in each
 * format, every node and mark of the schema in the markdown; the default stays the JSON of every
 * root; a bad format is a 400 and an unknown room a 404.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startRelay, type StartedRelay } from '../../fixtures/relay.ts'
import { docOf, schema as s, seedRoom } from './helpers.ts'
import { cleanupAfterEach } from '../../fixtures/cleanups.ts'

const cleanups = cleanupAfterEach()
async function relay(): Promise<StartedRelay> {
  const r = await startRelay()
  cleanups.push(() => r.stop())
  return r
}

const t = (text: string, marks: ReturnType<typeof s.mark>[] = []) => s.text(text, marks)
const para = (...content: ReturnType<typeof s.node>[]) => s.node('paragraph', null, content)
const item = (text: string) => s.node('list_item', null, [para(t(text))])

const DOC = docOf(
  s.node('heading', { level: 1 }, [t('Plan')]),
  para(t('plain '), t('bold', [s.marks['strong']!.create()]), t(' and '), t('a link', [s.marks['link']!.create({ href: 'https://example.org' })]), s.node('hard_break'), t('next line '), t('code', [s.marks['code']!.create()])),
  s.node('bullet_list', null, [item('one'), item('two')]),
  s.node('ordered_list', { order: 3 }, [item('third')]),
  s.node('blockquote', null, [para(t('quoted '), t('em', [s.marks['em']!.create()]))]),
  s.node('code_block', null, [t('let x = 1\n*not bold*')]),
  s.node('horizontal_rule'),
  para(t('a * star and _under_ '), s.node('image', { src: 'https://example.org/i.png', alt: 'pic' })),
  para(),
)

const MARKDOWN = [
  '# Plan',
  '',
  'plain **bold** and [a link](https://example.org)\\',
  'next line `code`',
  '',
  '* one',
  '* two',
  '',
  '3. third',
  '',
  '> quoted *em*',
  '',
  '```',
  'let x = 1',
  '*not bold*',
  '```',
  '',
  '---',
  '',
  'a \\* star and \\_under\\_ ![pic](https://example.org/i.png)',
].join('\n')

const TEXT = ['Plan', 'plain bold and a link\nnext line code', 'one', 'two', 'third', 'quoted em', 'let x = 1\n*not bold*', 'a * star and _under_ '].join('\n\n')

describe('GET /api/rooms/:room?format=', () => {
  it('prosemirror, markdown, text and the default JSON of every root', async () => {
    const r = await relay()
    await seedRoom(r.httpUrl, 'fmt', DOC)
    const extra = new Y.Doc()
    extra.getMap('meta').set('owner', 'ada')
    await fetch(`${r.httpUrl}/api/rooms/fmt/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(extra)) })

    const pm = await fetch(`${r.httpUrl}/api/rooms/fmt?format=prosemirror`)
    expect(pm.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await pm.json()).toEqual(DOC.toJSON())

    const md = await fetch(`${r.httpUrl}/api/rooms/fmt?format=markdown`)
    expect(md.status).toBe(200)
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    expect(await md.text()).toBe(MARKDOWN)

    const text = await fetch(`${r.httpUrl}/api/rooms/fmt?format=text`)
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await text.text()).toBe(TEXT)

    for (const url of [`${r.httpUrl}/api/rooms/fmt`, `${r.httpUrl}/api/rooms/fmt?format=json`]) {
      expect(await (await fetch(url)).json()).toEqual({ blocks: DOC.toJSON(), meta: { owner: 'ada' } })
    }
  })

  it('a room with no editor document reads as one empty paragraph; a bad format is 400; an unknown room 404', async () => {
    const r = await relay()
    const data = new Y.Doc()
    data.getMap('meta').set('k', 1)
    await fetch(`${r.httpUrl}/api/rooms/data-only/update`, { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(data)) })
    expect(await (await fetch(`${r.httpUrl}/api/rooms/data-only?format=prosemirror`)).json()).toEqual({ type: 'doc', content: [{ type: 'paragraph' }] })
    expect(await (await fetch(`${r.httpUrl}/api/rooms/data-only?format=markdown`)).text()).toBe('')
    const bad = await fetch(`${r.httpUrl}/api/rooms/data-only?format=html`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'malformed-message', reason: 'format must be one of json, prosemirror, markdown, text' })
    expect((await fetch(`${r.httpUrl}/api/rooms/nobody?format=markdown`)).status).toBe(404)
  })
})
