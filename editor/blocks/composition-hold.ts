/**
 * Remote changes held while an IME composes (see the binding's module comment): what a hold
 * keeps, and the pure parts of releasing it. Imports yjs, prosemirror-model/-transform.
 *
 * A hold starts with the first remote change that touches the block the caret is in while the
 * view is composing. From then on the view is left alone (ProseMirror would redraw the DOM the
 * browser's IME writes into) and local changes are not written; the binding's document follows
 * the Y.Text as always, and the steps that took it there are kept. The hold also keeps the ids of
 * the Y.Text's units of the composed block as they were when it started: when the composition
 * ends, the text it changed is written next to the unit it was typed after (the way it would
 * have been written had the remote change arrived a moment later), and units it replaced are
 * deleted where they are now, wherever the remote change moved them.
 */
import * as Y from 'yjs'
import type { Node as PMNode } from 'prosemirror-model'
import type { Step } from 'prosemirror-transform'

/** A hold: from {@link Hold.base} (what the view showed) to the binding's document now. */
export interface Hold {
  /** The document the view showed when the hold started. */
  readonly base: PMNode
  /** Units of the Y.Text each top-level node of {@link base} was read from. */
  readonly baseSpans: readonly number[]
  /** The view's caret in {@link base}. */
  readonly baseHead: number
  /** The held remote changes' steps, in order, from {@link base} to the binding's document. */
  readonly steps: Step[]
  /** The unit (of {@link base}) of `ids[0]`. */
  readonly firstUnit: number
  /** Ids of the units of the composed block (and of the unit before it), as they were. */
  readonly ids: readonly Y.ID[]
}

/** Where a walk over the Y.Text starts: an item (null: the start of the text) and its unit index. */
interface WalkFrom {
  item: Y.Item | null
  index: number
}

/**
 * The ids of units `[first, end)` of `ytext` as it was before a transaction (`wasThere`: whether
 * an item was there then), walking from `from` (at or before `first`, the same before and after).
 */
export function unitIds(ytext: Y.Text, from: WalkFrom, wasThere: (item: Y.Item) => boolean, first: number, end: number): Y.ID[] {
  const ids: Y.ID[] = []
  let n = from.index
  for (let item = from.item ?? ytext._start; item !== null && n < end; item = item.right) {
    if (!item.countable || !wasThere(item)) continue
    for (let k = Math.max(0, first - n); k < item.length && n + k < end; k++) ids.push(Y.createID(item.id.client, item.id.clock + k))
    n += item.length
  }
  return ids
}
