/**
 * Measurement probes installed in the demo pages by the editor benchmark. They run inside the
 * browser (passed to `page.evaluate`), so they must be self-contained functions. Timestamps
 * are `performance.timeOrigin + performance.now()`: wall-clock milliseconds with sub-ms
 * resolution, comparable between two pages of one browser on one machine.
 */

/** Sender side: records the time of every keydown reaching the editor (capture phase). */
export function installKeydownProbe(): void {
  const w = window as unknown as { __keydowns: number[] }
  w.__keydowns = []
  document.querySelector('.ProseMirror')?.addEventListener(
    'keydown',
    () => w.__keydowns.push(performance.timeOrigin + performance.now()),
    { capture: true },
  )
}

/**
 * Receiver side: records when the rendered editor DOM first shows `n` characters of text, for
 * every n. A MutationObserver callback runs right after the DOM changes (before paint), so this
 * is "applied and rendered into the DOM" time.
 */
export function installRenderProbe(): void {
  const w = window as unknown as {
    __renders: Map<number, number>
    tandem?: { editor: { view: { state: { doc: { textContent: string } } } } }
  }
  w.__renders = new Map()
  const root = document.querySelector('.ProseMirror')
  if (!root) throw new Error('no editor')
  // The document's text length, not the DOM's: remote cursor labels are DOM text too.
  new MutationObserver(() => {
    const at = performance.timeOrigin + performance.now()
    const n = w.tandem?.editor.view.state.doc.textContent.length ?? 0
    if (!w.__renders.has(n)) w.__renders.set(n, at)
  }).observe(root, { subtree: true, childList: true, characterData: true })
}

/**
 * Local cost of a keystroke: from keydown to the Yjs update it produces (after ProseMirror
 * read the DOM, applied the transaction, y-prosemirror wrote it into the Y.Doc and the
 * provider handed it to the socket).
 */
export function installLocalCostProbe(): void {
  const w = window as unknown as {
    __costs: number[]
    __down: number
    tandem?: { editor: { doc: { on(e: 'update', f: () => void): void } } }
  }
  w.__costs = []
  w.__down = -1
  document.querySelector('.ProseMirror')?.addEventListener('keydown', () => (w.__down = performance.now()), { capture: true })
  w.tandem?.editor.doc.on('update', () => {
    if (w.__down < 0) return
    w.__costs.push(performance.now() - w.__down)
    w.__down = -1
  })
}
