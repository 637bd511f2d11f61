import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { Awareness } from 'y-protocols/awareness'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { WebsocketProvider } from 'y-websocket'
import { EditorState } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { initProseMirrorDoc } from 'y-prosemirror'
import type { Plugin } from 'prosemirror-state'
import type { Node as PMNode } from 'prosemirror-model'
import { collaborationPlugins } from './collaboration.ts'
import { BlockBinding } from './blocks/binding.ts'
import type { CaretBuilder, cursorCaret } from './cursor-caret.ts'
import { blockCursorsPlugin } from './blocks/cursors.ts'
import { BLOCKS_TEXT, TREE_FRAGMENT, conversionUpdate } from './blocks/convert.ts'
import { editorSchema } from './schema.ts'
import { buildInputRules } from './input-rules.ts'
import { buildKeymaps } from './keymap.ts'
import { toolbarPlugin } from './toolbar.ts'
import { connectToRelays, type ConnectionStatus } from './relay-connection.ts'
import { SavedTracker, type SavedState } from './saved-status.ts'
import { initialContentUpdate, initialBlocksUpdate, type InitialContent } from './initial-content.ts'
import { mountHistoryPanel, type HistoryPanel } from './history/panel.ts'

/** The local user as shown to others: the name on the remote cursor and its colour. */
export interface EditorUser {
  name: string
  /** A CSS colour, e.g. `#3b82f6`. */
  color: string
}

/** Options of {@link mountEditor}. */
export interface EditorOptions {
  /** Relay WebSocket URL (`ws://host:port`), or a list: the editor fails over along it. */
  url: string | readonly string[]
  /** Room (document) name; the connection goes to `<url>/<room>`. */
  room: string
  /** Sent to the relay as the `token` query parameter. */
  token?: string
  /** Name and colour for presence and remote cursors. */
  user: EditorUser
  /** Start in "work offline" mode: no connection until `setOffline(false)`. Default false. */
  offline?: boolean
  /** Show the document without letting the user edit it. Default false. */
  readOnly?: boolean
  /** Inserted exactly once into an empty room (see {@link InitialContent}). */
  initialContent?: InitialContent
  /** Keep the document in IndexedDB so it survives reloads and works offline. Default true. */
  persistence?: boolean
  /**
   * How the document is kept in Yjs. `blocks` (default): the whole text in one `Y.Text` with
   * block structure as data beside it, so no concurrent structure change (split, join, heading,
   * list) can lose, double or move anyone's typing; a room written in the tree layout is
   * converted once when opened. `y-prosemirror`: y-prosemirror's tree of XML elements, only for
   * rooms shared with stock y-prosemirror editors (Tiptap, BlockNote, …); NOT structure-safe:
   * text typed into a block while someone else splits, joins or retypes it can be lost or doubled.
   */
  layout?: 'blocks' | 'y-prosemirror'
  /** Name of the Y.Text of the `blocks` layout. Default `blocks`. */
  text?: string
  /** Name of the Y.XmlFragment of the `y-prosemirror` layout (and of the tree converted from). Default `prosemirror`. */
  fragment?: string
  /** Show the toolbar. Default true. */
  toolbar?: boolean
  /**
   * Builds the element drawing another user's caret (a ProseMirror widget), as y-prosemirror's
   * `cursorBuilder` option does. Default {@link cursorCaret}: y-prosemirror's look (class
   * `ProseMirror-yjs-cursor`, a name label) at a fraction of its per-keystroke cost in Chromium.
   */
  cursorBuilder?: CaretBuilder
  /**
   * Show the history panel: the room's versions, a read-only preview of each with its insertions
   * and deletions in each author's colour, "name this version", "restore" (the relay's history
   * API, with `token`). `true`: below the editor; `{ element }`: in that element; `pollMs`: how
   * often the list refreshes (default 5000). Default false.
   */
  history?: boolean | { element?: HTMLElement; pollMs?: number }
}

/** Events of an {@link EditorHandle}. */
export type EditorEvents = {
  /** The relay connection changed state. */
  status: (status: ConnectionStatus) => void
  /** The durability of this tab's changes on the relay changed. */
  saved: (state: SavedState) => void
  /** `true` once the document has been exchanged with the relay; `false` on disconnect. */
  synced: (synced: boolean) => void
  /** The IndexedDB copy (if any) has been loaded into the document. */
  loaded: () => void
}

/** What {@link mountEditor} returns. */
export interface EditorHandle {
  /** The ProseMirror view. */
  readonly view: EditorView
  /** The shared document: the text lives in `doc.getText(text)` (layout `blocks`) or `doc.getXmlFragment(fragment)`. */
  readonly doc: Y.Doc
  /** Presence of everyone in the room (the local user's state under `user`). */
  readonly awareness: Awareness
  /** The underlying y-websocket provider. */
  readonly provider: WebsocketProvider
  /** Current connection state. */
  readonly status: ConnectionStatus
  /** Current durability state. */
  readonly saved: SavedState
  /** Whether the document is in sync with the relay. */
  readonly synced: boolean
  /** Whether the tab is in "work offline" mode. */
  readonly offline: boolean
  /** The history panel, when `history` was asked for. */
  readonly history: HistoryPanel | null
  /** Resolves when the IndexedDB copy has been loaded (immediately without persistence). */
  readonly whenLoaded: Promise<void>
  /**
   * Resolves when every change made so far is committed to IndexedDB (immediately without
   * persistence): after it, a reload or a crash of the tab loses nothing.
   */
  whenStored(): Promise<void>
  /** Subscribe to an event. */
  on<E extends keyof EditorEvents>(event: E, listener: EditorEvents[E]): void
  /** Unsubscribe from an event. */
  off<E extends keyof EditorEvents>(event: E, listener: EditorEvents[E]): void
  /** Disconnect this tab from the relay (true) or reconnect it (false). */
  setOffline(offline: boolean): void
  /** Change the name / colour others see. */
  setUser(user: EditorUser): void
  /** Release the view, the sockets, every listener and the IndexedDB handle. */
  destroy(): Promise<void>
}

/**
 * Mounts a collaborative rich-text editor on `element`.
 *
 * ```ts
 * const editor = mountEditor(document.querySelector('#editor')!, {
 *   url: ['ws://relay-a:1234', 'ws://relay-b:1234'],
 *   room: 'notes',
 *   user: { name: 'Ada', color: '#e11d48' },
 * })
 * editor.on('saved', (state) => console.log(state))
 * ```
 */
export function mountEditor(element: HTMLElement, options: EditorOptions): EditorHandle {
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url]
  const fragmentName = options.fragment ?? TREE_FRAGMENT
  const textName = options.text ?? BLOCKS_TEXT
  const layout = options.layout ?? 'blocks'
  const events = new ObservableV2<EditorEvents>()
  const doc = new Y.Doc()
  const fragment = doc.getXmlFragment(fragmentName)
  const ytext = doc.getText(textName)
  const awareness = new Awareness(doc)
  awareness.setLocalStateField('user', { name: options.user.name, color: options.user.color })

  let offline = options.offline ?? false
  let status: ConnectionStatus = 'disconnected'
  const provider = connectToRelays(urls, options.room, doc, awareness, { token: options.token, connect: !offline })
  status = provider.wsconnecting ? 'connecting' : 'disconnected'
  const onStatus = ({ status: next }: { status: ConnectionStatus }): void => {
    status = next
    events.emit('status', [next])
  }
  provider.on('status', onStatus)
  const onSync = (synced: boolean): void => events.emit('synced', [synced])
  provider.on('sync', onSync)
  const saved = new SavedTracker(provider, doc, (state) => events.emit('saved', [state]))

  const persistence = options.persistence === false ? null : new IndexeddbPersistence(`tandem:${options.room}`, doc)
  let destroyed = false
  const whenLoaded = (persistence ? persistence.whenSynced.then(() => undefined) : Promise.resolve()).then(() => {
    if (!destroyed) events.emit('loaded', [])
  })

  // A room in the tree layout is converted once, and an empty room gets the initial content,
  // after the IndexedDB copy and the first sync (or at once offline): both writes are
  // deterministic, so tabs doing it at the same time write it once.
  const seedUpdate = options.initialContent === undefined ? null
    : layout === 'blocks' ? initialBlocksUpdate(editorSchema, options.initialContent, textName)
    : initialContentUpdate(editorSchema, options.initialContent, fragmentName)
  if (layout === 'blocks' || seedUpdate) {
    const prepare = (): void => {
      if (destroyed) return
      if (layout === 'blocks') {
        const conversion = conversionUpdate(doc, editorSchema, fragmentName, textName)
        if (conversion) Y.applyUpdate(doc, conversion, 'tandem:convert')
      }
      const empty = layout === 'blocks' ? ytext.length === 0 && fragment.length === 0 : fragment.length === 0
      if (seedUpdate && empty) Y.applyUpdate(doc, seedUpdate, 'tandem:initial-content')
    }
    const firstSync = new Promise<void>((resolve) => {
      if (provider.synced) return resolve()
      const once = (synced: boolean): void => {
        if (!synced) return
        provider.off('sync', once)
        resolve()
      }
      provider.on('sync', once)
    })
    void whenLoaded.then(() => {
      if (offline) prepare()
      return firstSync.then(prepare)
    })
  }

  let binding: BlockBinding | null = null
  let pmDoc: PMNode
  const plugins: Plugin[] = []
  if (layout === 'blocks') {
    binding = new BlockBinding(ytext, editorSchema)
    pmDoc = binding.doc
    plugins.push(binding.plugin(), blockCursorsPlugin(awareness, options.cursorBuilder))
  } else {
    const initial = initProseMirrorDoc(fragment, editorSchema)
    pmDoc = initial.doc
    plugins.push(...collaborationPlugins(fragment, awareness, { mapping: initial.mapping, ...(options.cursorBuilder ? { cursorBuilder: options.cursorBuilder } : {}) }))
  }
  const mountPoint = element.ownerDocument.createElement('div')
  mountPoint.className = 'tandem-editor-body'
  element.classList.add('tandem-editor')
  element.append(mountPoint)
  plugins.push(buildInputRules(editorSchema), ...buildKeymaps(editorSchema))
  if (options.toolbar !== false) plugins.push(toolbarPlugin(editorSchema, element))
  const readOnly = options.readOnly ?? false
  const view = new EditorView(mountPoint, {
    state: EditorState.create({ schema: editorSchema, doc: pmDoc, plugins }),
    editable: () => !readOnly,
  })
  const historyOptions = typeof options.history === 'object' ? options.history : {}
  const history = options.history
    ? mountHistoryPanel(historyOptions.element ?? element, {
        baseUrl: urls[0]!.replace(/^ws/, 'http'),
        room: options.room,
        awareness,
        ...(options.token ? { token: options.token } : {}),
        ...(historyOptions.pollMs !== undefined ? { pollMs: historyOptions.pollMs } : {}),
      })
    : null

  const handle: EditorHandle = {
    view,
    doc,
    awareness,
    provider,
    get status() {
      return status
    },
    get saved() {
      return saved.state
    },
    get synced() {
      return provider.synced
    },
    get offline() {
      return offline
    },
    history,
    whenLoaded,
    async whenStored() {
      await whenLoaded
      const db = persistence?.db
      if (!db || destroyed) return
      // IndexedDB runs transactions on one store in creation order: this one completes after
      // every update y-indexeddb queued before it.
      await new Promise<void>((resolve, reject) => {
        const tr = db.transaction(['updates'], 'readonly')
        tr.oncomplete = () => resolve()
        tr.onerror = () => reject(tr.error)
        tr.onabort = () => reject(tr.error)
      })
    },
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    setOffline(next) {
      offline = next
      if (next) provider.disconnect()
      else provider.connect()
    },
    setUser(user) {
      awareness.setLocalStateField('user', { name: user.name, color: user.color })
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      view.destroy()
      history?.destroy()
      binding?.destroy()
      mountPoint.remove()
      element.classList.remove('tandem-editor')
      saved.destroy()
      provider.off('status', onStatus)
      provider.off('sync', onSync)
      provider.destroy()
      awareness.destroy()
      events.destroy()
      if (persistence) await persistence.destroy()
      doc.destroy()
    },
  }
  return handle
}
