/**
 * One replica of the block layout for tests at the Yjs level: a Y.Doc whose `blocks` Y.Text
 * holds the document, the ProseMirror state shown for it, local edits made with real
 * ProseMirror commands and written by pm-to-yjs, and remote changes (delivered by {@link sync})
 * turned into steps by yjs-to-pm for the changed range only. Both directions are checked on
 * every change: reading the whole Y.Text must give exactly the document the replica shows.
 */
import * as Y from 'yjs'
import { EditorState, TextSelection, type Command, type Transaction } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { editorSchema as schema } from '../../../../editor/schema.ts'
import { appendTokens, readTokens } from '../../../../editor/blocks/layout.ts'
import { fromTokens, toTokens } from '../../../../editor/blocks/traversal.ts'
import { writeChange } from '../../../../editor/blocks/pm-to-yjs.ts'
import { applyRemoteChange, transactionRange, wasThereBefore } from '../../../../editor/blocks/yjs-to-pm.ts'
import { BlockStarts } from '../../../../editor/blocks/block-starts.ts'

/** Origin of this harness's local writes (what an undo manager tracks). */
export const LOCAL = Symbol('local')

export class Replica {
  readonly doc = new Y.Doc()
  readonly ytext: Y.Text
  state: EditorState
  spans: number[]
  /** Where the nodes start among the Y.Text's items (as the binding keeps it). */
  readonly starts: BlockStarts
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
    this.starts = new BlockStarts(this.ytext, read.spans.length)
    // remote changes go through yjs-to-pm, for the changed range only
    this.ytext.observeDeep((events, transaction) => {
      if (transaction.origin === LOCAL) return
      const range = transactionRange(this.ytext, transaction, events, this.spans, this.starts)
      if (!range) return
      const options = { starts: this.starts, wasThere: wasThereBefore(transaction) }
      const { transform, spans, unitsRead } = applyRemoteChange(schema, this.ytext, this.state.doc, this.spans, range, options)
      this.unitsRead += unitsRead
      const tr = this.state.tr
      for (const step of transform.steps) tr.step(step)
      this.state = this.state.apply(tr)
      this.spans = spans
      this.remoteSteps += transform.steps.length
      this.lastRemote = tr
    })
  }

  /** Steps yjs-to-pm made from remote changes so far. */
  remoteSteps = 0
  /** The transaction that showed the last remote change. */
  lastRemote: Transaction | null = null
  /** Units yjs-to-pm read from the Y.Text so far. */
  unitsRead = 0

  /** Seeds an empty Y.Text with `doc` (one replica only; the others get it by sync). */
  seed(doc: PMNode): void {
    let n = 0
    this.doc.transact(() => appendTokens(this.ytext, toTokens(doc, () => `seed${n++}`)), LOCAL)
    const read = fromTokens(schema, readTokens(this.ytext))
    this.state = EditorState.create({ schema, doc: read.doc })
    this.spans = read.spans
    this.starts.reset(read.spans.length)
  }

  /**
   * Checks that the document yjs-to-pm built from remote changes is exactly the one the whole
   * Y.Text reads as, with the same spans.
   */
  reread(): void {
    const read = fromTokens(schema, readTokens(this.ytext))
    if (!read.doc.eq(this.state.doc)) throw new Error(`${this.name}: yjs-to-pm built ${this.state.doc} but the Y.Text reads ${read.doc}`)
    if (read.spans.join() !== this.spans.join()) throw new Error(`${this.name}: yjs-to-pm spans ${this.spans} but the Y.Text reads ${read.spans}`)
    const wrong = this.starts.verify(this.spans)
    if (wrong) throw new Error(`${this.name}: node starts: ${wrong}`)
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
    this.spans = writeChange(this.ytext, before, this.state.doc, this.spans, { steps: tr.steps, newId: () => `${this.name}${this.ids++}`, starts: this.starts }, LOCAL)
    const back = fromTokens(schema, readTokens(this.ytext)).doc
    if (!back.eq(this.state.doc)) throw new Error(`${this.name}: Y.Text reads back ${back} but the editor shows ${this.state.doc}`)
    const wrong = this.starts.verify(this.spans)
    if (wrong) throw new Error(`${this.name}: node starts after a write: ${wrong}`)
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

/**
 * Sends each replica what the others have that it lacks, until all hold the same (receiving
 * formatted text can make Yjs write a clean-up of redundant format items, which must travel
 * too), then checks every replica's document against its whole Y.Text.
 */
export function sync(...replicas: Replica[]): void {
  // state vector and delete set: a clean-up deletes items without advancing the clock
  const vectors = (): string[] => replicas.map((r) => Y.encodeSnapshot(Y.snapshot(r.doc)).join())
  for (let round = 0; round < 10; round++) {
    for (const from of replicas) {
      for (const to of replicas) {
        if (from !== to) Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)))
      }
    }
    if (new Set(vectors()).size === 1) break
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
