/**
 * The SSE parser of `tandem/client` against the format's rules: line ends (CRLF, LF, CR, and a CR
 * and LF split across chunks), multi-line data, ids kept across events and refused with NUL,
 * retry, comments, a BOM, and an event cut off by the end of the stream never dispatched.
 */
import { describe, expect, it } from 'vitest'
import { SseParser, type SseMessage } from '../../../client/sse.ts'

/** Every event of `chunks` fed in order. */
function parse(chunks: string[], parser = new SseParser()): SseMessage[] {
  return chunks.flatMap((chunk) => parser.push(chunk))
}

describe('SseParser', () => {
  it('reads events with LF, CRLF and CR line ends, fed whole or one character at a time', () => {
    const text = 'id: 1\nevent: changed\ndata: {"a":1}\n\nid: 2\r\nevent: reset\r\ndata: x\r\n\r\nid: 3\rdata: y\r\r'
    const expected = [
      { event: 'changed', data: '{"a":1}', lastEventId: '1' },
      { event: 'reset', data: 'x', lastEventId: '2' },
      { event: 'message', data: 'y', lastEventId: '3' },
    ]
    expect(parse([text])).toEqual(expected)
    expect(parse(text.split(''))).toEqual(expected)
    // a CR at the end of one chunk and the LF at the start of the next are one line end
    expect(parse(['data: a\r', '\n\r', '\n'])).toEqual([{ event: 'message', data: 'a', lastEventId: '' }])
  })

  it('joins data lines with LF, keeps one leading space only, and dispatches an empty data line', () => {
    expect(parse(['data:first\ndata:  second\ndata\n\n'])).toEqual([{ event: 'message', data: 'first\n second\n', lastEventId: '' }])
    expect(parse(['data:\n\n'])).toEqual([{ event: 'message', data: '', lastEventId: '' }])
  })

  it('keeps the last id across events, ignores an id holding NUL, and takes an id from an event without data', () => {
    const parser = new SseParser('start')
    expect(parse(['data: a\n\n'], parser)).toEqual([{ event: 'message', data: 'a', lastEventId: 'start' }])
    expect(parse(['id: 7\ndata: b\n\nid: bad\0id\ndata: c\n\n'], parser).map((m) => m.lastEventId)).toEqual(['7', '7'])
    expect(parse(['id: 9\n\n'], parser)).toEqual([])
    expect(parser.lastEventId).toBe('9')
  })

  it('reads retry, skips comments and unknown fields, strips a leading BOM', () => {
    const parser = new SseParser()
    expect(parse(['\uFEFF: tandem change feed\nretry: 2000\n\n: heartbeat\n\nfoo: bar\ndata: z\n\n'], parser)).toEqual([{ event: 'message', data: 'z', lastEventId: '' }])
    expect(parser.retryMs).toBe(2000)
    parse(['retry: soon\n\n'], parser)
    expect(parser.retryMs).toBe(2000)
  })

  it('never dispatches an event the stream cut off before its blank line', () => {
    const parser = new SseParser()
    expect(parse(['id: 1\ndata: whole\n\nid: 2\ndata: {"cut', ' off'], parser)).toEqual([{ event: 'message', data: 'whole', lastEventId: '1' }])
    expect(parser.lastEventId).toBe('1')
  })
})
