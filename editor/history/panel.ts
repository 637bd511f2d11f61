/**
 * The history panel: the room's versions (time, name, authors, size of the change), a
 * read-only preview of one version with what it inserted and deleted since the version before
 * it in each author's colour, "name this version", and "restore". It talks to the relay's history
 * API (`/api/rooms/:room/versions…`, relay/history) with the editor's token; the restore is an
 * ordinary update of the room, so it reaches this editor (and every other) through the relay.
 *
 * Mounted by `mountEditor({ history: true })` (and `<tandem-editor history>`).
 *
 * @module
 */
import { Node as PMNode } from 'prosemirror-model'
import { EditorState } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import type { Awareness } from 'y-protocols/awareness'
import { createDiffSchema, hashedColor, type ChangeAttrs } from './diff-schema.ts'

/** An author of a version, as the relay lists it. */
export interface HistoryAuthor {
  id?: string
  name?: string
  verified: boolean
}

/** A version, as the relay lists it. */
export interface HistoryVersion {
  id: string
  time: string
  kind: 'edit' | 'restore'
  name?: string
  restoredFrom?: string
  authors: HistoryAuthor[]
  changes: { inserted: number; deleted: number }
}

/** Options of {@link mountHistoryPanel}. */
export interface HistoryPanelOptions {
  /** The relay's HTTP base (`http://host:port`). */
  baseUrl: string
  room: string
  /** Sent as `Authorization: Bearer`. */
  token?: string
  /** Presence of the room: a live user's colour is used for their changes (else a colour from their id). */
  awareness: Awareness
  /** Refresh the list this often while mounted (ms; default 5000; 0: only on demand). */
  pollMs?: number
}

/** What {@link mountHistoryPanel} returns. */
export interface HistoryPanel {
  readonly element: HTMLElement
  /** The versions as last listed (newest first). */
  readonly versions: readonly HistoryVersion[]
  /** Lists the versions again. */
  refresh(): Promise<void>
  /** Shows version `id` (its changes since the version before it). */
  preview(id: string): Promise<void>
  /** Restores version `id`. */
  restore(id: string): Promise<void>
  /** Names the document as it is now. */
  name(name: string): Promise<void>
  destroy(): void
}

const STYLE_ID = 'tandem-history-style'
const STYLES = `
.tandem-history { font: 13px/1.4 system-ui, sans-serif; }
.tandem-editor > .tandem-history { border-top: 1px solid #e2e8f0; margin-top: 8px; padding: 8px; }
.tandem-history header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.tandem-history h3 { font-size: 13px; margin: 0; }
.tandem-history form { display: flex; gap: 6px; margin: 6px 0; }
.tandem-history form input { flex: 1; min-width: 0; }
.tandem-history ol { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow: auto; }
.tandem-history li button.version { all: unset; box-sizing: border-box; display: block; width: 100%; padding: 4px 6px; border-radius: 6px; cursor: pointer; }
.tandem-history li button.version:hover, .tandem-history li[aria-selected="true"] button.version { background: #f1f5f9; }
.tandem-history .when { color: #475569; }
.tandem-history .label { font-weight: 600; margin-left: 4px; }
.tandem-history .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin: 0 3px 0 6px; background: var(--tandem-author); }
.tandem-history .size { color: #64748b; margin-left: 6px; }
.tandem-history .error { color: #b91c1c; }
.tandem-history-preview { margin-top: 8px; border: 1px solid #e2e8f0; border-radius: 8px; }
.tandem-history-preview .bar { display: flex; gap: 6px; align-items: center; padding: 6px; border-bottom: 1px solid #e2e8f0; }
.tandem-history-preview .bar span { flex: 1 1 auto; min-width: 0; }
.tandem-history-preview .bar button { flex: none; }
.tandem-history-preview .ProseMirror { padding: 8px 12px; max-height: 360px; overflow: auto; outline: none; }
.tandem-change.tandem-insertion { text-decoration: none; background: color-mix(in srgb, var(--tandem-author) 22%, transparent); border-bottom: 2px solid var(--tandem-author); }
.tandem-change.tandem-deletion { text-decoration: line-through; text-decoration-color: var(--tandem-author); color: color-mix(in srgb, var(--tandem-author) 70%, #475569); }
`

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value)
  if (text !== undefined) node.textContent = text
  return node
}

/** Mounts the history panel into `container`. */
export function mountHistoryPanel(container: HTMLElement, options: HistoryPanelOptions): HistoryPanel {
  const doc = container.ownerDocument
  if (!doc.getElementById(STYLE_ID)) {
    const style = el(doc, 'style', { id: STYLE_ID })
    style.textContent = STYLES
    doc.head.append(style)
  }
  const api = `${options.baseUrl.replace(/\/$/, '')}/api/rooms/${encodeURIComponent(options.room)}/versions`
  const headers = (json = false): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
  })

  /** A live user's colour by name, else one from the author's id. */
  const colorOf = (attrs: ChangeAttrs): string => {
    if (attrs.name) {
      for (const state of options.awareness.getStates().values()) {
        const user = (state as { user?: { name?: unknown; color?: unknown } }).user
        if (user?.name === attrs.name && typeof user.color === 'string') return user.color
      }
    }
    return hashedColor(attrs)
  }
  const schema = createDiffSchema(colorOf)

  const root = el(doc, 'section', { class: 'tandem-history', 'data-testid': 'history' })
  const header = el(doc, 'header')
  const refreshButton = el(doc, 'button', { type: 'button', 'data-testid': 'history-refresh', title: 'Refresh' }, '↻')
  header.append(el(doc, 'h3', {}, 'History'), refreshButton)
  const form = el(doc, 'form', { 'data-testid': 'history-name-form' })
  const nameInput = el(doc, 'input', { type: 'text', 'data-testid': 'history-name', placeholder: 'Name this version', maxlength: '200' })
  form.append(nameInput, el(doc, 'button', { type: 'submit' }, 'Name'))
  const errorLine = el(doc, 'p', { class: 'error', 'data-testid': 'history-error', hidden: '' })
  const list = el(doc, 'ol', { 'data-testid': 'history-list' })
  const previewBox = el(doc, 'div', { class: 'tandem-history-preview', 'data-testid': 'history-preview', hidden: '' })
  const bar = el(doc, 'div', { class: 'bar' })
  const previewTitle = el(doc, 'span', { 'data-testid': 'history-preview-title' })
  const restoreButton = el(doc, 'button', { type: 'button', 'data-testid': 'history-restore' }, 'Restore this version')
  const closeButton = el(doc, 'button', { type: 'button', 'data-testid': 'history-close' }, 'Close')
  bar.append(previewTitle, restoreButton, closeButton)
  const previewMount = el(doc, 'div', { class: 'tandem-history-doc' })
  previewBox.append(bar, previewMount)
  root.append(header, form, errorLine, list, previewBox)
  container.append(root)

  let versions: HistoryVersion[] = []
  let selected: string | null = null
  let view: EditorView | null = null
  let destroyed = false

  const showError = (message: string | null): void => {
    errorLine.hidden = message === null
    errorLine.textContent = message ?? ''
  }
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(`${api}${path}`, { ...init, headers: { ...headers(init.body !== undefined), ...(init.headers as Record<string, string> | undefined) } })
    if (!res.ok) {
      let reason = `${res.status}`
      try {
        reason = ((await res.json()) as { reason?: string }).reason ?? reason
      } catch {
        // not JSON
      }
      throw new Error(reason)
    }
    return res
  }
  const guarded = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work()
      showError(null)
    } catch (error) {
      showError((error as Error).message)
    }
  }

  const authorName = (a: HistoryAuthor): string => (a.name ?? a.id ?? 'unknown') + (a.verified ? '' : ' (unverified)')
  /** What the list shows, to skip re-rendering an unchanged list (a poll would otherwise touch the DOM every few seconds). */
  let rendered = ''
  const render = (): void => {
    const key = JSON.stringify([selected, versions])
    if (key === rendered) return
    rendered = key
    const items = versions.map((v) => {
      const li = el(doc, 'li', { 'data-version': v.id, 'aria-selected': String(v.id === selected) })
      const button = el(doc, 'button', { type: 'button', class: 'version' })
      button.append(el(doc, 'span', { class: 'when' }, new Date(v.time).toLocaleString()))
      const label = v.name ?? (v.kind === 'restore' ? 'Restored' : '')
      if (label) button.append(el(doc, 'span', { class: 'label' }, label))
      for (const a of v.authors) {
        const dot = el(doc, 'span', { class: 'dot', title: authorName(a), style: `--tandem-author: ${colorOf({ author: a.id ?? null, name: a.name ?? null })}` })
        button.append(dot, el(doc, 'span', { class: 'author' }, authorName(a)))
      }
      button.append(el(doc, 'span', { class: 'size' }, `+${v.changes.inserted} −${v.changes.deleted}`))
      button.addEventListener('click', () => void guarded(() => panel.preview(v.id)))
      li.append(button)
      return li
    })
    list.replaceChildren(...items)
  }

  const show = (json: unknown, title: string): void => {
    const node = PMNode.fromJSON(schema, json)
    const state = EditorState.create({ schema, doc: node })
    if (view) view.updateState(state)
    else view = new EditorView(previewMount, { state, editable: () => false })
    previewTitle.textContent = title
    previewBox.hidden = false
  }

  const panel: HistoryPanel = {
    element: root,
    get versions() {
      return versions
    },
    async refresh() {
      const res = await fetch(api, { headers: headers() })
      if (res.status === 404) versions = []
      else if (!res.ok) throw new Error(`history: ${res.status}`)
      else versions = ((await res.json()) as { versions: HistoryVersion[] }).versions
      if (!destroyed) render()
    },
    async preview(id) {
      const index = versions.findIndex((v) => v.id === id)
      if (index < 0) throw new Error('no such version')
      const version = versions[index]!
      const older = versions[index + 1]
      let json: unknown
      if (older) {
        json = ((await (await call(`/${id}/diff?from=${older.id}`)).json()) as { doc: unknown }).doc
      } else {
        const blocks = ((await (await call(`/${id}`)).json()) as { blocks?: unknown }).blocks
        json = typeof blocks === 'object' && blocks !== null ? blocks : { type: 'doc', content: [{ type: 'paragraph', ...(typeof blocks === 'string' && blocks ? { content: [{ type: 'text', text: blocks }] } : {}) }] }
      }
      selected = id
      render()
      show(json, `${version.name ?? new Date(version.time).toLocaleString()}${older ? ' — changes since the version before' : ''}`)
    },
    async restore(id) {
      await call(`/${id}/restore`, { method: 'POST' })
      selected = null
      previewBox.hidden = true
      await panel.refresh()
    },
    async name(name) {
      await call('', { method: 'POST', body: JSON.stringify({ name }) })
      await panel.refresh()
    },
    destroy() {
      destroyed = true
      clearInterval(poll)
      view?.destroy()
      root.remove()
    },
  }

  refreshButton.addEventListener('click', () => void guarded(() => panel.refresh()))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const name = nameInput.value.trim()
    if (!name) return
    void guarded(async () => {
      await panel.name(name)
      nameInput.value = ''
    })
  })
  restoreButton.addEventListener('click', () => {
    if (selected) void guarded(() => panel.restore(selected!))
  })
  closeButton.addEventListener('click', () => {
    selected = null
    previewBox.hidden = true
    render()
  })
  const pollMs = options.pollMs ?? 5000
  const poll = pollMs > 0 ? setInterval(() => void panel.refresh().catch(() => undefined), pollMs) : undefined
  void guarded(() => panel.refresh())
  return panel
}
