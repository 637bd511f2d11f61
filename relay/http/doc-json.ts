/**
 * A Y.Doc's root shared types as JSON, for `GET /api/rooms/:room`.
 *
 * Root types of a doc received over the wire are untyped until accessed; their kind is
 * decided from their content: a root with only map entries is a Y.Map; a root whose items
 * hold strings/formats/embeds is a Y.Text, and one holding block markers (embedded Y.Maps) is
 * the editor's block layout (ProseMirror JSON, read by `editor/blocks/`); one whose items are XML elements or XML text is
 * a Y.XmlFragment (ProseMirror-like JSON); any other sequence is a Y.Array. The work is
 * done on a scratch copy, so the room's own doc is never typed by the API.
 *
 * @module
 */
import * as Y from 'yjs'
import { fromTokens } from '../../editor/blocks/traversal.ts'
import { editorSchema } from '../../editor/schema.ts'
import { BLOCKS_TEXT, readTokens } from '../../editor/blocks/layout.ts'

/** ProseMirror-like JSON of a node. */
export interface NodeJson {
  type: string
  attrs?: Record<string, unknown>
  content?: NodeJson[]
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>
  text?: string
}

type Kind = 'map' | 'text' | 'blocks' | 'xml' | 'array'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function kindOf(type: Y.AbstractType<any>, name: string): Kind {
  let item = type._start
  if (!item) return type._map.size > 0 ? 'map' : 'text'
  let maps = false
  while (item) {
    if (!item.deleted || item.content instanceof Y.ContentType) {
      const content = item.content
      if (content instanceof Y.ContentString || content instanceof Y.ContentFormat || content instanceof Y.ContentEmbed) return textKind(type)
      if (content instanceof Y.ContentType) {
        // embedded maps: block markers in a text (decided by the text around them, or by the
        // layout's root name when there is no text yet), else an array of maps
        if (content.type instanceof Y.Map) {
          if (name === BLOCKS_TEXT) return 'blocks'
          maps = true
          item = item.right
          continue
        }
        return content.type instanceof Y.XmlElement || content.type instanceof Y.XmlText ? 'xml' : 'array'
      }
      if (!(content instanceof Y.ContentDeleted)) return 'array'
    }
    item = item.right
  }
  return maps ? 'array' : 'text'
}

/** A text root that holds block markers (embedded maps) is the editor's block layout. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function textKind(type: Y.AbstractType<any>): Kind {
  for (let item = type._start; item; item = item.right) if (item.content instanceof Y.ContentType && item.content.type instanceof Y.Map) return 'blocks'
  return 'text'
}

function xmlText(text: Y.XmlText): NodeJson[] {
  const out: NodeJson[] = []
  for (const op of text.toDelta() as Array<{ insert: unknown; attributes?: Record<string, unknown> }>) {
    if (typeof op.insert !== 'string') continue
    const node: NodeJson = { type: 'text', text: op.insert }
    if (op.attributes) {
      node.marks = Object.entries(op.attributes).map(([type, attrs]) =>
        attrs && typeof attrs === 'object' && Object.keys(attrs).length > 0 ? { type, attrs: attrs as Record<string, unknown> } : { type },
      )
    }
    out.push(node)
  }
  return out
}

function xmlChildren(parent: Y.XmlFragment | Y.XmlElement): NodeJson[] {
  const out: NodeJson[] = []
  for (const child of parent.toArray()) {
    if (child instanceof Y.XmlText) out.push(...xmlText(child))
    else if (child instanceof Y.XmlElement) {
      const node: NodeJson = { type: child.nodeName }
      const attrs = child.getAttributes()
      if (Object.keys(attrs).length > 0) node.attrs = attrs
      const content = xmlChildren(child)
      if (content.length > 0) node.content = content
      out.push(node)
    }
  }
  return out
}

/** The JSON of every root shared type of the doc encoded in `update`. */
export function docToJson(update: Uint8Array): Record<string, unknown> {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, update)
    return scratchDocToJson(doc)
  } finally {
    doc.destroy()
  }
}

/**
 * The JSON of every root shared type of `doc`, a scratch doc built from updates (its roots get
 * their kinds here, so never pass a doc that other code reads): what {@link docToJson} answers,
 * without encoding a doc that is already built (document history previews).
 */
export function scratchDocToJson(doc: Y.Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, type] of [...doc.share.entries()]) {
    switch (kindOf(type, name)) {
      case 'map':
        out[name] = doc.getMap(name).toJSON()
        break
      case 'text':
        out[name] = doc.getText(name).toString()
        break
      case 'blocks':
        // the editor's block layout, read exactly as the editor reads it (repairs included)
        out[name] = fromTokens(editorSchema, readTokens(doc.getText(name))).doc.toJSON()
        break
      case 'xml':
        out[name] = { type: 'doc', content: xmlChildren(doc.getXmlFragment(name)) }
        break
      case 'array':
        out[name] = doc.getArray(name).toJSON()
        break
    }
  }
  return out
}
