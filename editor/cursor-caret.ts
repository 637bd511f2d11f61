/**
 * The element drawing another user's caret: y-prosemirror's look (`.ProseMirror-yjs-cursor`, a
 * span with side borders in the user's colour holding a `div` label with the name, styled in
 * `editor.css`), without the two U+2060 word joiners y-prosemirror's `defaultCursorBuilder` puts
 * around the label.
 *
 * Why not theirs: with one such caret anywhere in a 50k-character document, every key typed
 * elsewhere cost Chromium ≈0.8 ms more main-thread time (≈12% of what ProseMirror alone spends on
 * the key), and an element without the word joiners costs nothing measurable (same page, carets
 * swapped in alternating blocks of keys: `npx tsx crdt-bench/editor/caret-cost.ts`). The joiners
 * are not needed: an empty inline span's borders cover the line's content area, so the caret has
 * the text's height, and an element adds no line-break opportunity, so the line does not break at
 * the caret (both checked in Chromium by `test/e2e/editor.test.ts`).
 */

/** A remote user as drawn: name and colour. */
export interface CaretUser {
  name: string
  color: string
}

/** Builds the element drawing a user's caret (`mountEditor`'s `cursorBuilder`). */
export type CaretBuilder = (user: CaretUser) => HTMLElement

/** A fresh caret element for `user` (a ProseMirror widget's DOM). */
export function cursorCaret(user: CaretUser): HTMLElement {
  const caret = document.createElement('span')
  caret.className = 'ProseMirror-yjs-cursor'
  caret.style.borderColor = user.color
  const label = document.createElement('div')
  label.style.backgroundColor = user.color
  label.textContent = user.name
  caret.append(label)
  return caret
}
