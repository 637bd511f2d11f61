/**
 * One replica of the block layout for tests at the Yjs level: a Y.Doc whose `blocks` Y.Text
 * holds the document, the ProseMirror state read from it, and local edits made with real
 * ProseMirror commands and written by `writeChange`. Remote updates are applied with
 * {@link sync} and the state is read again from the whole Y.Text (the changed-range reader,
 * yjs-to-pm, is not built yet). Every local write is checked: reading the Y.Text back must give
 * exactly the document the command produced.
 */
import * as Y from 'yjs'
import { EditorState, TextSelection, type Command, type Transaction } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { appendTokens, readTokens } from '../../../../editor/blocks/layout.ts'
import { fromTokens, toTokens } from '../../../../editor/blocks/traversal.ts'
import { writeChange } from '../../../../editor/blocks/pm-to-yjs.ts'

export class Replica {
  readonly doc = new Y.Doc()
  readonly ytext: Y.Text
  state: EditorState
  spans: number[]
  private ids = 0

  constructor(
    readonly name: string,
    clientID: number,
  ) {
    this.doc.clientID = clientID
    this.ytext = this.doc.getText('blocks')
    const read = fromTokens(schema, readTokens(this.ytext))
    this.state = EditorState.create({ schema, doc: read.doc })
    this.spans = read.spans
  }

  /** Seeds an empty Y.Text with `doc` (one replica only; the others get it by sync). */
  seed(doc: PMNode): void {
    let n = 0
    appendTokens(this.ytext, toTokens(doc, () => `seed${n++}`))
    this.reread()
  }

  /** Reads the whole Y.Text again (after remote updates). */
  reread(): void {
    const read = fromTokens(schema, readTokens(this.ytext))
    this.state = EditorState.create({ schema, doc: read.doc })
    this.spans = read.spans
  }

  get pm(): PMNode {
    return this.state.doc
  }

  /** Blocks as `type:text` strings (type `p`, `h1`…, `li>p`, `bq>p`, …), for assertions. */
  get blocks(): string[] {
    const out: string[] = []
    this.pm.descendants((node, _pos, parent) => {
      if (!node.isTextblock && node.type.name !== 'horizontal_rule') return true
      const path: string[] = []
      this.pm.nodesBetween(_pos, _pos + 1, (n) => {
        if (n !== node && !n.isTextblock && n.type.name !== 'doc') path.push(short(n))
      })
      path.push(short(node))
      out.push(`${path.join('>')}:${node.textContent}`)
      void parent
      return false
    })
    return out
  }

  /** Applies `tr` locally and writes it into the Y.Text; checks the write reads back exactly. */
  dispatch(tr: Transaction): void {
    const before = this.state.doc
    this.state = this.state.apply(tr)
    if (!tr.docChanged) return
    this.spans = writeChange(this.ytext, before, this.state.doc, this.spans, { steps: tr.steps, newId: () => `${this.name}${this.ids++}` })
    const back = fromTokens(schema, readTokens(this.ytext)).doc
    if (!back.eq(this.state.doc)) throw new Error(`${this.name}: Y.Text reads back ${back} but the editor shows ${this.state.doc}`)
  }

  /** Runs a ProseMirror command at the current selection; returns whether it applied. */
  tryRun(command: Command): boolean {
    let ran = false
    command(this.state, (tr) => {
      ran = true
      this.dispatch(tr)
    })
    return ran
  }

  /** Runs a ProseMirror command at the current selection; throws if it does not apply. */
  run(command: Command): void {
    let ran = false
    command(this.state, (tr) => {
      ran = true
      this.dispatch(tr)
    })
    if (!ran) throw new Error(`${this.name}: command did not apply`)
  }

  /** Puts the caret `offset` characters into the first occurrence of `needle` (or selects it). */
  caret(needle: string, offset = 0, selectLength = 0): this {
    const pos = this.find(needle) + offset
    this.state = this.state.apply(this.state.tr.setSelection(TextSelection.create(this.pm, pos, pos + selectLength)))
    return this
  }

  /** Caret at the end of the textblock containing `needle`. */
  caretAtEnd(needle: string): this {
    const $pos = this.pm.resolve(this.find(needle))
    const end = $pos.end()
    this.state = this.state.apply(this.state.tr.setSelection(TextSelection.create(this.pm, end)))
    return this
  }

  /** Caret at the start of the textblock containing `needle`. */
  caretAtStart(needle: string): this {
    const $pos = this.pm.resolve(this.find(needle))
    this.state = this.state.apply(this.state.tr.setSelection(TextSelection.create(this.pm, $pos.start())))
    return this
  }

  /** Types `text` at the selection, one character per transaction. */
  type(text: string): void {
    for (const ch of text) this.dispatch(this.state.tr.insertText(ch))
  }

  private find(needle: string): number {
    let found = -1
    this.pm.descendants((node, pos) => {
      if (found >= 0) return false
      if (node.isTextblock) {
        const i = node.textContent.indexOf(needle)
        if (i >= 0) found = pos + 1 + i
        return false
      }
      return true
    })
    if (found < 0) throw new Error(`${this.name}: "${needle}" not in ${this.pm}`)
    return found
  }
}

function short(node: PMNode): string {
  switch (node.type.name) {
    case 'paragraph':
      return 'p'
    case 'heading':
      return `h${node.attrs['level']}`
    case 'bullet_list':
      return 'ul'
    case 'ordered_list':
      return 'ol'
    case 'list_item':
      return 'li'
    case 'blockquote':
      return 'bq'
    case 'code_block':
      return 'code'
    case 'horizontal_rule':
      return 'hr'
    default:
      return node.type.name
  }
}

/** Sends each replica what the others have that it lacks, then re-reads all of them. */
export function sync(...replicas: Replica[]): void {
  for (const from of replicas) {
    for (const to of replicas) {
      if (from !== to) Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)))
    }
  }
  for (const r of replicas) r.reread()
}

/** A document of paragraphs with the given texts. */
export function paragraphs(...texts: string[]): PMNode {
  return schema.node(
    'doc',
    null,
    texts.map((t) => schema.node('paragraph', null, t ? [schema.text(t)] : [])),
  )
}

/** Two replicas (client ids given) that share `doc`. */
export function pair(doc: PMNode, clientA = 1, clientB = 2): [Replica, Replica] {
  const a = new Replica('A', clientA)
  const b = new Replica('B', clientB)
  a.seed(doc)
  sync(a, b)
  return [a, b]
}
