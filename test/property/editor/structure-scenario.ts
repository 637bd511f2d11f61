/**
 * The scenarios of the structure property (structure.property.test.ts): random editing with
 * the editor's own commands on 2–4 headless editors, and the checks that the converged
 * document lost, doubled and moved nothing and has no block boundary no one created. Shared
 * by the vitest property and the failure-rate script (structure-rates.ts).
 */
import fc from 'fast-check'
import { Fragment, Slice, type Node as PMNode } from 'prosemirror-model'
import { TextSelection, type Command } from 'prosemirror-state'
import { baseKeymap, chainCommands, lift, setBlockType, toggleMark, wrapIn } from 'prosemirror-commands'
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list'
import { editorSchema as schema } from '../../../editor/schema.ts'
import { undoCommand, redoCommand } from '../../../editor/undo-commands.ts'
import { connectedEditors, paragraphs, type Flavor, type HeadlessEditor } from './headless-editor.ts'

const nodes = schema.nodes
const item = nodes['list_item']!

/** The commands, as the editor binds them (editor/keymap.ts, editor/toolbar.ts). */
const COMMANDS = {
  enter: chainCommands(splitListItem(item), baseKeymap['Enter']!),
  backspace: baseKeymap['Backspace']!,
  delete: baseKeymap['Delete']!,
  h1: setBlockType(nodes['heading']!, { level: 1 }),
  h2: setBlockType(nodes['heading']!, { level: 2 }),
  paragraph: setBlockType(nodes['paragraph']!),
  code: setBlockType(nodes['code_block']!),
  bullet: wrapInList(nodes['bullet_list']!),
  ordered: wrapInList(nodes['ordered_list']!),
  sink: sinkListItem(item),
  lift: chainCommands(liftListItem(item), lift),
  quote: (state, dispatch) => wrapIn(nodes['blockquote']!)(state, dispatch) || lift(state, dispatch),
  bold: toggleMark(schema.marks['strong']!),
  undo: undoCommand,
  redo: redoCommand,
} satisfies Record<string, Command>

type CommandName = keyof typeof COMMANDS

export type Action =
  | { kind: 'type'; editor: number; count: number }
  | { kind: 'deliver'; link: number; count: number }
  | { kind: 'offline'; editor: number }
  | { kind: 'move'; editor: number; pick: number }
  | { kind: 'select'; editor: number; pick: number; span: number }
  | { kind: 'paste'; editor: number; blocks: number }
  | { kind: 'command'; editor: number; command: CommandName }

export interface Scenario {
  editors: number
  initial: number[]
  actions: Action[]
}

const editorArb = fc.nat(3)
const command = (name: CommandName, weight: number): { weight: number; arbitrary: fc.Arbitrary<Action> } => ({
  weight,
  arbitrary: fc.record({ kind: fc.constant('command' as const), editor: editorArb, command: fc.constant(name) }),
})

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('type' as const), editor: editorArb, count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('deliver' as const), link: fc.nat(11), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('offline' as const), editor: editorArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), editor: editorArb, pick: fc.nat(10_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('select' as const), editor: editorArb, pick: fc.nat(10_000), span: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('paste' as const), editor: editorArb, blocks: fc.integer({ min: 1, max: 3 }) }) },
  command('enter', 3),
  command('backspace', 3),
  command('delete', 1),
  command('h1', 1),
  command('h2', 1),
  command('paragraph', 1),
  command('code', 1),
  command('bullet', 1),
  command('ordered', 1),
  command('sink', 1),
  command('lift', 1),
  command('quote', 1),
  command('bold', 1),
  command('undo', 1),
  command('redo', 1),
)

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  editors: fc.integer({ min: 2, max: 4 }),
  initial: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
  actions: fc.array(actionArb, { minLength: 10, maxLength: 100 }),
})

/** One editor's view: how many textblocks, and the index of the textblock each character is in. */
interface Snapshot {
  blocks: number
  at: Map<string, number>
}

function snapshotOf(doc: PMNode): Snapshot {
  const at = new Map<string, number>()
  let blocks = 0
  doc.descendants((node) => {
    if (!node.isTextblock) return true
    for (const ch of node.textContent) if (tracked(ch)) at.set(ch, blocks)
    blocks++
    return false
  })
  return { blocks, at }
}

/** Characters the scenarios write (unique code points); anything else (a newline Enter types in a code block) is not tracked. */
const FIRST = 0x4e00
const tracked = (ch: string): boolean => ch.codePointAt(0)! >= FIRST

/** How many times each tracked character appears. */
function counts(doc: PMNode): Map<string, number> {
  const out = new Map<string, number>()
  for (const ch of doc.textContent) if (tracked(ch)) out.set(ch, (out.get(ch) ?? 0) + 1)
  return out
}

/** Text positions (inside textblocks) of `doc`. */
function textPositions(doc: PMNode): number[] {
  const out: number[] = []
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
    for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i)
    return false
  })
  return out
}

/** The character right before the selection head inside its textblock, or null at a block start. */
function charBeforeCaret(editor: HeadlessEditor): string | null {
  const $head = editor.state.selection.$head
  if (!$head.parent.isTextblock || $head.parentOffset === 0) return null
  const ch = editor.state.doc.textBetween($head.pos - 1, $head.pos)
  return ch && tracked(ch) ? ch : null
}

const name = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16)}`

interface Run {
  writer: number
  /** The anchor (null: typed at a block start), then the typed characters. */
  chars: Array<string | null>
  /** For each typed character: the characters its writer saw when typing it. */
  seen: Array<Set<string>>
}

/** Runs `s` on editors of the given flavors; throws (with a reason) when a check fails. */
export function runScenario(s: Scenario, flavors: Flavor[], log?: (line: string) => void): void {
  const net = connectedEditors(s.editors, flavors)
  try {
    const editors = net.editors
    let next = FIRST
    const fresh = (): string => String.fromCodePoint(next++)
    const initial = s.initial.map((len) => Array.from({ length: len }, fresh).join(''))
    editors[0]!.setDoc(paragraphs(...initial))
    net.flush()
    const written = new Set<string>(initial.flatMap((t) => [...t]))
    const removed = new Set<string>()
    const reinserted = new Set<string>()
    const snapshots: Snapshot[] = [snapshotOf(editors[0]!.state.doc)]
    const runs: Run[] = []
    const open: Array<Run | null> = editors.map(() => null)
    const offline = editors.map(() => false)
    const endRun = (e: number): void => {
      const run = open[e]
      if (run && run.chars.length > 1) runs.push(run)
      open[e] = null
    }
    /** Runs a local change of editor `e`: records what it removed from its own view and a snapshot. */
    const local = (e: number, change: () => void): void => {
      const editor = editors[e]!
      const before = counts(editor.state.doc)
      change()
      const after = counts(editor.state.doc)
      for (const [ch, n] of before) if ((after.get(ch) ?? 0) < n) removed.add(ch)
      // Undo and redo write a character they bring back as a new Yjs item: a fresh insertion.
      for (const [ch, n] of after) if (n > (before.get(ch) ?? 0) && written.has(ch)) reinserted.add(ch)
      snapshots.push(snapshotOf(editor.state.doc))
    }
    const inTextblock = (editor: HeadlessEditor): boolean => editor.state.selection.$head.parent.isTextblock && editor.state.selection.$anchor.parent.isTextblock

    const show = (doc: PMNode): string => {
      const out: string[] = []
      doc.descendants((node, _pos, parent) => {
        if (node.isTextblock) out.push(`${parent && parent.type.name !== 'doc' ? parent.type.name + '>' : ''}${node.type.name}:${[...node.textContent].map((c) => (tracked(c) ? (c.codePointAt(0)! - FIRST).toString(16) : '\\n')).join(',')}`)
        return !node.isTextblock
      })
      return out.join(' | ')
    }
    for (const a of s.actions) {
      log?.(`${JSON.stringify(a)}`)
      if (log) for (const editor of editors) log(`   ${editor.name}: ${show(editor.state.doc)}  caret ${editor.state.selection.from}-${editor.state.selection.to}`)
      if (a.kind === 'deliver') {
        const links = net.pending().filter(([from, to]) => !offline[from] && !offline[to])
        const link = links[a.link % Math.max(1, links.length)]
        if (!link) continue
        for (let i = 0; i < a.count; i++) net.deliver(link[0], link[1])
        const writer = link[1]
        const run = open[writer]
        // The caret lost its place (what it followed was deleted or moved): the run ends here.
        if (run && charBeforeCaret(editors[writer]!) !== run.chars[run.chars.length - 1]) endRun(writer)
        continue
      }
      const e = a.editor % s.editors
      const editor = editors[e]!
      if (a.kind === 'offline') {
        offline[e] = !offline[e]
        continue
      }
      if (a.kind === 'type') {
        if (!inTextblock(editor)) continue
        if (!editor.state.selection.empty) endRun(e)
        for (let i = 0; i < a.count; i++) {
          if (!open[e]) {
            local(e, () => editor.view.dispatch(editor.state.tr.deleteSelection()))
            open[e] = { writer: e, chars: [charBeforeCaret(editor)], seen: [] }
          }
          const ch = fresh()
          const seen = new Set(counts(editor.state.doc).keys())
          local(e, () => editor.type(ch))
          written.add(ch)
          open[e]!.chars.push(ch)
          open[e]!.seen.push(seen)
        }
        continue
      }
      endRun(e)
      if (a.kind === 'move') {
        const positions = textPositions(editor.state.doc)
        editor.select(positions[a.pick % positions.length]!)
      } else if (a.kind === 'select') {
        const positions = textPositions(editor.state.doc)
        const from = a.pick % positions.length
        editor.select(positions[from]!, positions[Math.min(positions.length - 1, from + a.span)]!)
      } else if (a.kind === 'paste') {
        if (!inTextblock(editor)) continue
        const blocks = Array.from({ length: a.blocks + 1 }, () => Array.from({ length: 3 }, fresh).join(''))
        for (const b of blocks) for (const ch of b) written.add(ch)
        const slice = new Slice(Fragment.from(paragraphs(...blocks).content), 1, 1)
        local(e, () => editor.view.dispatch(editor.state.tr.replaceSelection(slice).scrollIntoView()))
      } else {
        local(e, () => COMMANDS[a.command](editor.state, (tr) => editor.view.dispatch(tr)))
      }
    }
    editors.forEach((_, e) => endRun(e))
    net.flush()
    if (log) for (const editor of editors) log(`final ${editor.name}: ${show(editor.state.doc)}`)
    check(editors, { written, removed, reinserted, snapshots, runs })
  } finally {
    net.destroy()
  }
}

interface Record_ {
  written: Set<string>
  removed: Set<string>
  /** Characters an undo or redo brought back (written again, as new items, where the undo manager put them). */
  reinserted: Set<string>
  snapshots: Snapshot[]
  runs: Run[]
}

function check(editors: HeadlessEditor[], { written, removed, reinserted, snapshots, runs }: Record_): void {
  const doc = editors[0]!.state.doc
  doc.check()
  for (const editor of editors) {
    const content = editor.fragmentDoc()
    if (!editor.state.doc.eq(content)) throw new Error(`${editor.name}'s view ${JSON.stringify(editor.state.doc.toJSON())} does not show its Yjs content ${JSON.stringify(content.toJSON())}`)
  }
  for (const editor of editors) {
    if (!editor.state.doc.eq(doc)) throw new Error(`${editor.name} differs from A: ${JSON.stringify(editor.state.doc.toJSON())} vs ${JSON.stringify(doc.toJSON())}`)
  }
  const final = counts(doc)
  // Two undo steps that restore the same deleted text at once (one user's redo of an undone
  // typing, another's undo of its deletion) each write it anew: Yjs's undo manager restores
  // content as new items, so both copies stay. Nothing else may appear twice.
  for (const [ch, n] of final) if (n > 1 && !reinserted.has(ch)) throw new Error(`character ${name(ch)} appears twice`)
  for (const ch of written) if (!final.has(ch) && !removed.has(ch)) throw new Error(`character ${name(ch)} lost (no one deleted it)`)

  const where = snapshotOf(doc).at
  const order = [...doc.textContent].filter(tracked)
  const index = new Map(order.map((ch, i) => [ch, i]))
  // Per snapshot, over the final order: the last block of what it knew up to each character,
  // and the first block of what it knew from each character on.
  const bounds = snapshots.map((s) => {
    const upTo: number[] = []
    const from: number[] = []
    let last = -1
    // (a character an undo or redo wrote anew is not where a view saw the old one)
    const blockOf = (ch: string): number | undefined => (reinserted.has(ch) ? undefined : s.at.get(ch))
    for (const ch of order) upTo.push((last = Math.max(last, blockOf(ch) ?? -1)))
    let first = Infinity
    for (let k = order.length - 1; k >= 0; k--) from[k] = first = Math.min(first, blockOf(order[k]!) ?? Infinity)
    return { blocks: s.blocks, upTo, from }
  })
  /**
   * Whether some editor's view (after one of its own actions, or the start) had a block
   * boundary between the final characters `order[i]` and `order[j]` (i < j): everything it
   * knew up to the first in blocks before everything it knew from the second on. One side may
   * be unknown to it (typed concurrently, or later): then its view had a boundary after (or
   * before) what it knew of the other side; if it knew neither, a boundary at all.
   */
  const separated = (i: number, j: number): boolean =>
    bounds.some(({ blocks, upTo, from }) => {
      const before = upTo[i]!
      const after = from[j]!
      // It knew none of the final characters (all typed concurrently): any boundary it made
      // can be the one they fell on either side of.
      if (before < 0 && after === Infinity) return blocks > 1
      if (after === Infinity) return before < blocks - 1
      if (before < 0) return after > 0
      return before < after
    })

  for (const run of runs) {
    for (let i = 0; i + 1 < run.chars.length; i++) {
      const p = run.chars[i] ?? null
      const q = run.chars[i + 1]!
      if (p === null || removed.has(p) || removed.has(q) || reinserted.has(p) || !final.has(p) || !final.has(q)) continue
      const from = index.get(p)!
      const to = index.get(q)!
      if (to < from) throw new Error(`run of ${editors[run.writer]!.name}: ${name(q)} typed after ${name(p)} ends up before it`)
      const seen = run.seen[i]!
      for (let k = from + 1; k < to; k++) {
        if (seen.has(order[k]!) && !reinserted.has(order[k]!)) throw new Error(`run of ${editors[run.writer]!.name}: ${name(order[k]!)}, which it saw elsewhere, ends up between ${name(p)} and ${name(q)}`)
      }
      if (where.get(p) !== where.get(q) && !separated(from, to)) {
        throw new Error(`run of ${editors[run.writer]!.name}: ${name(p)} and ${name(q)} end up in different blocks, and no one split there`)
      }
    }
  }
  for (let k = 0; k + 1 < order.length; k++) {
    const x = order[k]!
    const y = order[k + 1]!
    // A character an undo or redo wrote anew may sit where the old one no longer is.
    if (reinserted.has(x) || reinserted.has(y)) continue
    if (where.get(x) !== where.get(y) && !separated(k, k + 1)) {
      throw new Error(`a block boundary between ${name(x)} and ${name(y)} that no one created`)
    }
  }
}
