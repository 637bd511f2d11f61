/**
 * The other user in a benchmark room, run in Node (no second browser renderer competing for the
 * two cores): a Y.Doc with a stock y-websocket provider and awareness, a name, a colour and a
 * cursor in the document, so the page under test shows a presence entry and a remote cursor as a
 * real two-person session does. It can type one character at a time, as another user's editor
 * writes it, to measure what applying a remote keystroke costs the page.
 */
import * as Y from 'yjs'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'

/** Which document layout the room uses (the editor's `layout` option). */
export type Layout = 'blocks' | 'y-prosemirror'

/** A connected peer. */
export interface Peer {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  /**
   * Places this peer's cursor after `offset` characters of paragraph `paragraph`, published as
   * tandem's editor publishes it: on the block layout a caret is the unit after it, so typing at
   * the caret publishes nothing; on the tree layout it sticks to the character before it. Whether
   * it published (the awareness state changed).
   */
  placeCursor(paragraph: number, offset: number): boolean
  /** Types `ch` after `offset` characters of paragraph `paragraph` (one Yjs transaction). */
  type(paragraph: number, offset: number, ch: string): void
  close(): void
}

/** Resolves once `provider` has exchanged the document with the relay (bounded). */
function synced(provider: WebsocketProvider, timeoutMs = 60_000): Promise<void> {
  if (provider.synced) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('peer: no sync within the timeout')), timeoutMs)
    const on = (isSynced: boolean): void => {
      if (!isSynced) return
      clearTimeout(timer)
      provider.off('sync', on)
      resolve()
    }
    provider.on('sync', on)
  })
}

/**
 * The unit index in the block layout's Y.Text of the character after `offset` characters of
 * paragraph `paragraph` (the benchmark documents are flat paragraphs: marker + text each).
 */
function blocksIndex(ytext: Y.Text, paragraph: number, offset: number): number {
  let markers = -1
  let index = 0
  for (let item = ytext._start; item !== null; item = item.right) {
    if (item.deleted || !item.countable) continue
    if (item.content instanceof Y.ContentType) {
      markers++
      if (markers === paragraph) return index + 1 + offset
    }
    index += item.length
  }
  throw new RangeError(`peer: no paragraph ${paragraph}`)
}

/** The XmlText of paragraph `paragraph` in y-prosemirror's tree. */
function paragraphText(fragment: Y.XmlFragment, paragraph: number): Y.XmlText {
  const element = fragment.get(paragraph)
  const text = element instanceof Y.XmlElement ? element.get(0) : null
  if (!(text instanceof Y.XmlText)) throw new RangeError(`peer: paragraph ${paragraph} holds no text`)
  return text
}

/** Paragraphs (block markers, or top-level elements) the peer's copy holds. */
function paragraphCount(doc: Y.Doc, layout: Layout): number {
  if (layout === 'y-prosemirror') return doc.getXmlFragment('prosemirror').length
  let n = 0
  for (let item = doc.getText('blocks')._start; item !== null; item = item.right) if (!item.deleted && item.content instanceof Y.ContentType) n++
  return n
}

/**
 * Joins `room` on the relay at `url` as user `name`, and waits for the first sync and until the
 * room holds at least `paragraphs` paragraphs (a page may still be sending its content).
 */
export async function joinAsPeer(url: string, room: string, layout: Layout, paragraphs = 0, name = 'Peer', color = '#2563eb'): Promise<Peer> {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  provider.awareness.setLocalStateField('user', { name, color })
  await synced(provider)
  if (paragraphCount(doc, layout) < paragraphs) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer: the room did not reach ${paragraphs} paragraphs`)), 120_000)
      const check = (): void => {
        if (paragraphCount(doc, layout) < paragraphs) return
        clearTimeout(timer)
        doc.off('update', check)
        resolve()
      }
      doc.on('update', check)
    })
  }
  const ytext = doc.getText('blocks')
  const fragment = doc.getXmlFragment('prosemirror')
  // as tandem's editors publish a caret: the unit after it (block layout), the character before it (tree)
  const position = (paragraph: number, offset: number): Y.RelativePosition =>
    layout === 'blocks'
      ? Y.createRelativePositionFromTypeIndex(ytext, blocksIndex(ytext, paragraph, offset), 0)
      : Y.createRelativePositionFromTypeIndex(paragraphText(fragment, paragraph), offset, -1)
  return {
    doc,
    provider,
    placeCursor(paragraph, offset) {
      const at = Y.relativePositionToJSON(position(paragraph, offset))
      const before = (provider.awareness.getLocalState() as { cursor?: { head: unknown } } | null)?.cursor?.head
      if (JSON.stringify(before) === JSON.stringify(at)) return false
      provider.awareness.setLocalStateField('cursor', { anchor: at, head: at })
      return true
    },
    type(paragraph, offset, ch) {
      if (layout === 'blocks') ytext.insert(blocksIndex(ytext, paragraph, offset), ch, {})
      else paragraphText(fragment, paragraph).insert(offset, ch)
    },
    close() {
      provider.awareness.setLocalState(null)
      provider.destroy()
      doc.destroy()
    },
  }
}
