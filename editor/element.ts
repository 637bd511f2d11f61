/**
 * `<tandem-editor>`: the collaborative editor as a custom element, for plain HTML pages (one
 * script tag: editor/dist/tandem-element.js) and for React, Vue, Svelte or any framework that
 * renders elements, sets attributes and listens to DOM events.
 *
 * ```html
 * <script src="https://relay.example/tandem-element.js"></script>
 * <tandem-editor room="notes" relay="wss://relay.example"></tandem-editor>
 * <script>
 *   document.querySelector('tandem-editor').addEventListener('saved', (e) => console.log(e.detail.saved))
 * </script>
 * ```
 *
 * Attributes (read when the element is connected; changing `room`, `relay`, `token`,
 * `user-name`, `user-color`, `readonly`, `persistence`, `toolbar`, `layout` or `history` remounts the editor,
 * `offline` toggles the connection in place):
 * - `room` (required): the room (document) name;
 * - `relay` (required): relay WebSocket URL, or several comma-separated for failover;
 * - `token`: sent to the relay as the `token` query parameter;
 * - `user-name`, `user-color`: presence (default a random guest name and colour);
 * - `readonly`, `offline`: boolean attributes;
 * - `persistence="off"`: no IndexedDB copy; `toolbar="off"`: no toolbar;
 * - `layout="y-prosemirror"`: y-prosemirror's tree layout, for rooms shared with stock
 *   y-prosemirror editors (not structure-safe; see `EditorOptions.layout`);
 * - `history`: boolean attribute, the history panel below the editor (`EditorOptions.history`).
 *
 * Events (`CustomEvent`, bubbling, composed): `status` (`detail.status`: connecting |
 * connected | disconnected), `saved` (`detail.saved`: saved | saving | local only), `synced`
 * (`detail.synced`), `ready` (`detail.editor`: the {@link EditorHandle}) after each mount. The
 * host reflects the current state in `data-status` and `data-saved` for styling.
 *
 * Importing this module defines nothing; call {@link defineTandemEditor} (the script-tag
 * bundle does, with the editor's stylesheet).
 *
 * @module
 */
import { mountEditor, type EditorHandle, type EditorOptions } from './mount.ts'
import type { ConnectionStatus } from './relay-connection.ts'
import type { SavedState } from './saved-status.ts'

/** The element's tag name. */
export const TANDEM_EDITOR_TAG = 'tandem-editor'

/** Attributes whose change remounts the editor. */
const MOUNT_ATTRIBUTES = ['room', 'relay', 'token', 'user-name', 'user-color', 'readonly', 'persistence', 'toolbar', 'layout', 'history'] as const

const COLORS = ['#e11d48', '#2563eb', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4d7c0f']

/** `detail` of each event the element dispatches. */
export interface TandemEditorEventMap {
  status: CustomEvent<{ status: ConnectionStatus }>
  saved: CustomEvent<{ saved: SavedState }>
  synced: CustomEvent<{ synced: boolean }>
  ready: CustomEvent<{ editor: EditorHandle }>
}

// Importable where there is no DOM (server-side rendering, Node): the class is only ever
// instantiated by a browser's customElements registry.
const ElementBase = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement

/** The `<tandem-editor>` element: mounts {@link mountEditor} from its attributes. */
export class TandemEditorElement extends ElementBase {
  static readonly observedAttributes = [...MOUNT_ATTRIBUTES, 'offline']

  private handle: EditorHandle | null = null
  private container: HTMLDivElement | null = null
  /** Chains unmounts so that a remount starts after the previous editor let go of IndexedDB. */
  private teardown: Promise<void> = Promise.resolve()
  private scheduled = false

  /** The mounted editor (view, doc, awareness, provider), or null while not mounted. */
  get editor(): EditorHandle | null {
    return this.handle
  }

  /** Current connection state (`disconnected` while not mounted). */
  get status(): ConnectionStatus {
    return this.handle?.status ?? 'disconnected'
  }

  /** Current durability state (`saved` while not mounted). */
  get saved(): SavedState {
    return this.handle?.saved ?? 'saved'
  }

  connectedCallback(): void {
    this.schedule()
  }

  disconnectedCallback(): void {
    this.schedule()
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (oldValue === newValue) return
    if (name === 'offline') {
      this.handle?.setOffline(newValue !== null)
      return
    }
    if (this.handle) this.unmount()
    this.schedule()
  }

  /** One (re)mount per task, however many attributes a framework sets in a row. */
  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      if (!this.isConnected) {
        this.unmount()
        return
      }
      if (!this.handle) void this.mount()
    })
  }

  private options(): EditorOptions | null {
    const room = this.getAttribute('room')
    const relays = (this.getAttribute('relay') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    if (!room || relays.length === 0) return null
    const token = this.getAttribute('token')
    return {
      url: relays,
      room,
      ...(token ? { token } : {}),
      user: {
        name: this.getAttribute('user-name') ?? `Guest ${Math.floor(1000 + Math.random() * 9000)}`,
        color: this.getAttribute('user-color') ?? COLORS[Math.floor(Math.random() * COLORS.length)]!,
      },
      readOnly: this.hasAttribute('readonly'),
      offline: this.hasAttribute('offline'),
      persistence: this.getAttribute('persistence') !== 'off',
      toolbar: this.getAttribute('toolbar') !== 'off',
      layout: this.getAttribute('layout') === 'y-prosemirror' ? 'y-prosemirror' : 'blocks',
      history: this.hasAttribute('history'),
    }
  }

  private async mount(): Promise<void> {
    const options = this.options()
    if (!options) return
    const pending = this.teardown
    await pending
    // Something changed while the previous editor was being released: that path mounts.
    if (this.handle || this.teardown !== pending || !this.isConnected) return
    const container = this.ownerDocument.createElement('div')
    container.className = 'tandem-editor-element'
    this.append(container)
    const handle = mountEditor(container, options)
    this.container = container
    this.handle = handle
    const emit = <K extends keyof TandemEditorEventMap>(type: K, detail: TandemEditorEventMap[K]['detail']): void => {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }))
    }
    handle.on('status', (status) => {
      this.dataset['status'] = status
      emit('status', { status })
    })
    handle.on('saved', (saved) => {
      this.dataset['saved'] = saved
      emit('saved', { saved })
    })
    handle.on('synced', (synced) => emit('synced', { synced }))
    this.dataset['status'] = handle.status
    this.dataset['saved'] = handle.saved
    emit('ready', { editor: handle })
  }

  private unmount(): void {
    const handle = this.handle
    const container = this.container
    this.handle = null
    this.container = null
    if (!handle) return
    delete this.dataset['status']
    delete this.dataset['saved']
    this.teardown = this.teardown.then(() => handle.destroy()).then(
      () => container?.remove(),
      () => container?.remove(),
    )
  }
}

/** Options of {@link defineTandemEditor}. */
export interface DefineOptions {
  /** Tag name; default `tandem-editor`. */
  tag?: string
  /** CSS added to the document once (the script-tag bundle passes the editor's stylesheet). */
  styles?: string
}

/**
 * Registers `<tandem-editor>` (once; later calls return the registered class). Bundler users
 * import the stylesheet themselves (`tandem/editor/style.css`) or pass `styles`.
 */
export function defineTandemEditor(options: DefineOptions = {}): CustomElementConstructor {
  const tag = options.tag ?? TANDEM_EDITOR_TAG
  if (options.styles && !document.querySelector(`style[data-tandem-editor="${tag}"]`)) {
    const style = document.createElement('style')
    style.dataset['tandemEditor'] = tag
    style.textContent = options.styles
    document.head.prepend(style)
  }
  const existing = customElements.get(tag)
  if (existing) return existing
  // A subclass per tag: one constructor cannot be registered under two names.
  const element = tag === TANDEM_EDITOR_TAG ? TandemEditorElement : class extends TandemEditorElement {}
  customElements.define(tag, element)
  return element
}

declare global {
  interface HTMLElementTagNameMap {
    'tandem-editor': TandemEditorElement
  }
}
