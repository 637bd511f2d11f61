/**
 * The rich-text operations of a JSON edit (insertText, insertBlocks, delete, setBlockType) on the
 * editor's document, the block layout's `Y.Text`.
 *
 * Each op is what an editor would do: a ProseMirror transform of the document as the Y.Text reads
 * (`fromTokens`, exactly what `GET ?format=prosemirror` returns), checked against the editor's
 * schema, then written by the binding's own writer (`writeChange` of `editor/blocks/pm-to-yjs.ts`)
 * with the op's steps pinning where it happened: an insert is one run of new units after the unit
 * before it, a type change one marker update in place, a delete deletes those units. Nothing is
 * rewritten that the op did not change, so a concurrent keystroke elsewhere is never lost.
 *
 * @module
 */
import type * as Y from 'yjs'
import { Fragment, Mark, type Node as PMNode, type NodeType, type ResolvedPos } from 'prosemirror-model'
import { Transform } from 'prosemirror-transform'
import { editorSchema } from '../../editor/schema.ts'
import { readTokens } from '../../editor/blocks/layout.ts'
import { fromTokens } from '../../editor/blocks/traversal.ts'
import { writeChange } from '../../editor/blocks/pm-to-yjs.ts'
import type { DeleteOp, InsertBlocksOp, InsertTextOp, MarkJson, NodeJson, RichTextOp, SetBlockTypeOp } from './ops.ts'
import { OpRefused } from './op-error.ts'

const schema = editorSchema

/** Text block types of the schema, for messages. */
const TEXTBLOCKS = Object.values(schema.nodes).filter((t) => t.isTextblock).map((t) => t.name)

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Deepest nesting of inserted blocks (lists in lists, quotes in quotes): far past any real document, far short of a stack overflow. */
export const MAX_DEPTH = 32

/**
 * Refuses attributes the schema does not declare (ProseMirror would drop them silently: a
 * misspelt `levle` would become a level-1 heading), and nesting deeper than {@link MAX_DEPTH}.
 */
function checkDeclaredAttrs(json: NodeJson | MarkJson, where: string, kind: 'node' | 'mark', depth = 0): void {
  if (depth > MAX_DEPTH) throw new OpRefused(`${where.slice(0, where.indexOf('.'))}: nested deeper than ${MAX_DEPTH} levels`)
  const type = kind === 'node' ? schema.nodes[json.type] : schema.marks[json.type]
  if (type && json.attrs !== null && typeof json.attrs === 'object') {
    const declared = type.spec.attrs ?? {}
    for (const name of Object.keys(json.attrs)) {
      if (!Object.hasOwn(declared, name)) throw new OpRefused(`${where}: Unsupported attribute ${name} for ${kind} of type ${json.type}`)
    }
  }
  if (kind === 'node') {
    const node = json as NodeJson
    if (Array.isArray(node.content)) node.content.forEach((child, i) => checkDeclaredAttrs(child, `${where}.content[${i}]`, 'node', depth + 1))
    if (Array.isArray(node.marks)) node.marks.forEach((mark, i) => checkDeclaredAttrs(mark, `${where}.marks[${i}]`, 'mark'))
  }
}

/** Whether `$pos` falls between the two halves of a surrogate pair (an emoji, say): an edit there would break the character. */
function splitsCharacter($pos: ResolvedPos): boolean {
  if (!$pos.parent.inlineContent || $pos.textOffset === 0) return false
  const text = $pos.parent.child($pos.index()).text ?? ''
  const high = text.charCodeAt($pos.textOffset - 1)
  const low = text.charCodeAt($pos.textOffset)
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff
}

/** Attribute rules the schema's `validate` cannot say: a heading's level is an integer 1–6 (the editor shows h1…h6). */
function checkLevels(node: PMNode, where: string): void {
  const check = (n: PMNode): void => {
    const level = n.attrs['level']
    if (n.type.name === 'heading' && !(Number.isInteger(level) && (level as number) >= 1 && (level as number) <= 6)) {
      throw new OpRefused(`${where}: a heading's level must be an integer from 1 to 6, got ${JSON.stringify(level)}`)
    }
  }
  check(node)
  node.descendants(check)
}

/** The editor's document in a Y.Text, changed op by op. */
export class RichTextEdits {
  private doc: PMNode
  private spans: number[]

  constructor(private readonly ytext: Y.Text) {
    const read = fromTokens(schema, readTokens(ytext))
    this.doc = read.doc
    this.spans = read.spans
  }

  /** Applies `op` (inside the caller's Yjs transaction); throws {@link OpRefused}. */
  apply(op: RichTextOp): void {
    const tr = new Transform(this.doc)
    switch (op.op) {
      case 'insertText':
        this.insertText(tr, op)
        break
      case 'insertBlocks':
        this.insertBlocks(tr, op)
        break
      case 'delete':
        this.delete(tr, op)
        break
      case 'setBlockType':
        this.setBlockType(tr, op)
        break
    }
    if (!tr.docChanged) return
    try {
      tr.doc.check()
    } catch (error) {
      throw new OpRefused(`the result would not be a valid document: ${message(error)}`)
    }
    this.spans = writeChange(this.ytext, this.doc, tr.doc, this.spans, { steps: tr.steps })
    this.doc = tr.doc
  }

  /** `pos` resolved, or a refusal naming the document's length (or the character it would split). */
  private resolve(pos: number): ResolvedPos {
    const size = this.doc.content.size
    if (pos > size) throw new OpRefused(`position ${pos} is past the end of the document (length ${size})`)
    const $pos = this.doc.resolve(pos)
    if (splitsCharacter($pos)) throw new OpRefused(`position ${pos} is inside a character (between the two halves of a surrogate pair)`)
    return $pos
  }

  private insertText(tr: Transform, op: InsertTextOp): void {
    let at: number
    if (op.at === 'end') {
      let end = -1
      this.doc.descendants((node, pos) => {
        if (node.isTextblock) end = pos + node.nodeSize - 1
        return !node.isTextblock
      })
      if (end < 0) throw new OpRefused('the document has no text block to append to')
      at = end
    } else at = op.at
    const $at = this.resolve(at)
    if (!$at.parent.inlineContent) {
      throw new OpRefused(`position ${at} is between blocks, not inside a text block: text goes inside a ${TEXTBLOCKS.join(', ')} (use insertBlocks here)`)
    }
    const marks = this.marks(op.marks ?? [], $at.parent.type)
    tr.insert(at, schema.text(op.text, marks))
  }

  private marks(json: readonly MarkJson[], parent: NodeType): readonly Mark[] {
    let set: readonly Mark[] = Mark.none
    json.forEach((m, i) => {
      let mark: Mark
      checkDeclaredAttrs(m, `marks[${i}]`, 'mark')
      try {
        mark = schema.markFromJSON(m)
      } catch (error) {
        throw new OpRefused(`marks[${i}]: ${message(error)}`)
      }
      if (!parent.allowsMarkType(mark.type)) throw new OpRefused(`marks[${i}]: a ${parent.name} does not allow the mark ${mark.type.name}`)
      set = mark.addToSet(set)
    })
    return set
  }

  private insertBlocks(tr: Transform, op: InsertBlocksOp): void {
    const nodes = op.blocks.map((json, i) => {
      let node: PMNode
      checkDeclaredAttrs(json, `blocks[${i}]`, 'node')
      try {
        node = schema.nodeFromJSON(json)
        node.check()
      } catch (error) {
        throw new OpRefused(`blocks[${i}]: ${message(error)}`)
      }
      if (!node.isBlock) throw new OpRefused(`blocks[${i}]: a ${node.type.name} is not a block`)
      checkLevels(node, `blocks[${i}]`)
      return node
    })
    const at = op.at === 'end' ? this.doc.content.size : op.at
    const $at = this.resolve(at)
    if ($at.parent.inlineContent) {
      throw new OpRefused(`position ${at} is inside the text of a ${$at.parent.type.name}: blocks go between blocks (before it at ${$at.before()}, after it at ${$at.after()})`)
    }
    const fragment = Fragment.fromArray(nodes)
    if (!$at.parent.canReplace($at.index(), $at.index(), fragment)) {
      const names = [...new Set(nodes.map((n) => n.type.name))].join(', ')
      const inside = $at.depth === 0 ? 'the document' : `a ${$at.parent.type.name}`
      throw new OpRefused(`${names} cannot stand at position ${at}, inside ${inside} (its content is "${$at.parent.type.spec.content}")`)
    }
    tr.insert(at, fragment)
  }

  private delete(tr: Transform, op: DeleteOp): void {
    this.resolve(op.from)
    this.resolve(op.to)
    tr.delete(op.from, op.to)
    if (!tr.docChanged) throw new OpRefused(`nothing can be deleted between ${op.from} and ${op.to}`)
  }

  private setBlockType(tr: Transform, op: SetBlockTypeOp): void {
    const type = schema.nodes[op.type]
    if (!type || !type.isTextblock) throw new OpRefused(`type must be a text block type (${TEXTBLOCKS.join(', ')}), got ${JSON.stringify(op.type)}`)
    let probe: PMNode
    checkDeclaredAttrs({ type: type.name, ...(op.attrs ? { attrs: op.attrs } : {}) }, 'attrs', 'node')
    try {
      probe = type.create(op.attrs ?? null)
      probe.check()
    } catch (error) {
      throw new OpRefused(`attrs: ${message(error)}`)
    }
    checkLevels(probe, 'attrs')
    const $at = this.resolve(op.at)
    let blockPos: number
    if ($at.parent.isTextblock) blockPos = $at.before()
    else if ($at.nodeAfter?.isTextblock) blockPos = op.at
    else throw new OpRefused(`no text block at position ${op.at} (give a position inside the block, or right before it)`)
    const $block = this.doc.resolve(blockPos)
    const index = $block.index()
    if (!$block.parent.canReplaceWith(index, index + 1, type)) {
      const why = $block.parent.type.name === 'list_item' && index === 0 ? ' (a list item starts with a paragraph)' : ''
      throw new OpRefused(`a ${type.name} cannot stand at position ${blockPos}, inside a ${$block.parent.type.name}${why}`)
    }
    tr.setBlockType(blockPos + 1, blockPos + 1, type, probe.attrs)
  }
}
