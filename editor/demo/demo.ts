/**
 * The demo page: uses the editor exactly as an embedding application would, through the
 * public module (editor/index.ts) only. Query parameters: `room` (default `welcome`),
 * `relay` (comma-separated ws:// URLs, default this page's host), `name` / `color` (the
 * user; otherwise remembered in localStorage), `welcome=0` (no initial content), `token`
 * (passed to the relay; without it, an open relay hands out one, `right=read` for read-only),
 * `layout=y-prosemirror` (the editor's tree layout instead of the default block layout).
 */
import { mountEditor, type EditorHandle, type EditorUser } from '../index.ts'
import { mountCrdtPanel, type CrdtPanel } from './crdt-panel.ts'

declare global {
  interface Window {
    /** The demo's live objects, for the browser tests and the curious. */
    tandem?: { editor: EditorHandle; panel: CrdtPanel }
  }
}

const COLORS = ['#e11d48', '#2563eb', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d']
const NAMES = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Leslie', 'Radia']

function $<T extends HTMLElement>(testId: string): T {
  const el = document.querySelector<T>(`[data-testid="${testId}"]`)
  if (!el) throw new Error(`demo: missing element ${testId}`)
  return el
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T
}

function initialUser(params: URLSearchParams): EditorUser {
  const stored = (() => {
    try {
      return JSON.parse(localStorage.getItem('tandem:user') ?? 'null') as Partial<EditorUser> | null
    } catch {
      return null
    }
  })()
  return {
    name: params.get('name') ?? stored?.name ?? pick(NAMES),
    color: params.get('color') ?? stored?.color ?? pick(COLORS),
  }
}

const WELCOME = {
  type: 'doc' as const,
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Welcome to tandem' }] },
    {
      type: 'paragraph',
      content: [
        { type: 'text', text: 'Every tab is a ' },
        { type: 'text', marks: [{ type: 'strong' }], text: 'leader' },
        { type: 'text', text: ': it keeps writing while offline and merges when it reconnects. No write is ever lost.' },
      ],
    },
    {
      type: 'bullet_list',
      content: [
        { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Open this room in a second window.' }] }] },
        { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Tick “Work offline” in one of them and type in both.' }] }] },
        { type: 'list_item', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Untick it: both edits are there, everywhere.' }] }] },
      ],
    },
  ],
}

/**
 * The token passed to the relay: `?token=`, else one the serving relay hands out when it runs
 * open (`GET /api/token`; `?right=read` asks for a read-only one); none otherwise.
 */
async function demoToken(params: URLSearchParams, room: string): Promise<string | undefined> {
  const given = params.get('token')
  if (given) return given
  try {
    const res = await fetch(`/api/token?room=${encodeURIComponent(room)}&right=${params.get('right') === 'read' ? 'read' : 'write'}`)
    if (res.ok) return ((await res.json()) as { token?: string }).token
  } catch {
    // not served by a relay (or it is unreachable): connect without a token
  }
  return undefined
}

function main(token: string | undefined): void {
  const params = new URLSearchParams(location.search)
  const room = params.get('room') || 'welcome'
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const relays = (params.get('relay') ?? `${scheme}://${location.host}`).split(',').map((s) => s.trim()).filter(Boolean)
  let user = initialUser(params)

  $('room').textContent = room
  $('relay').textContent = relays.join(', ')
  document.title = `${room} · tandem`

  const editor = mountEditor($('editor'), {
    url: relays,
    room,
    user,
    ...(token ? { token } : {}),
    ...(params.get('welcome') === '0' ? {} : { initialContent: WELCOME }),
    ...(params.get('layout') === 'y-prosemirror' ? { layout: 'y-prosemirror' as const } : {}),
    // the room's versions (the relay's history): list, preview with each author's changes, name, restore
    history: { element: $('history-host') },
  })

  const status = $('status')
  const showStatus = (state: string): void => {
    status.dataset['state'] = state
    status.querySelector('b')!.textContent = state
  }
  showStatus(editor.status)
  editor.on('status', showStatus)
  // The saved indicator says "saved" only when everything is saved, but while the user types it
  // stays on "saving" until the typing pauses: going back to "saved" between two keystrokes
  // (each is acknowledged within milliseconds) was an extra frame per key that cost more than the
  // keystroke itself on a long document (crdt-bench/editor/profile-page.ts), and a flicker.
  const SAVED_AFTER_PAUSE_MS = 600
  const saved = $('saved')
  let shownSaved = ''
  let lastChange = -Infinity
  let pending: ReturnType<typeof setTimeout> | undefined
  const renderSaved = (state: string): void => {
    if (state === shownSaved) return
    shownSaved = state
    saved.dataset['state'] = state
    saved.querySelector('b')!.textContent = state
  }
  const showSaved = (state: string): void => {
    clearTimeout(pending)
    pending = undefined
    const now = performance.now()
    if (state !== 'saved') lastChange = now
    const wait = lastChange + SAVED_AFTER_PAUSE_MS - now
    if (state === 'saved' && shownSaved === 'saving' && wait > 0) pending = setTimeout(() => showSaved(editor.saved), wait)
    else renderSaved(state)
  }
  showSaved(editor.saved)
  editor.on('saved', showSaved)
  editor.on('loaded', () => document.body.setAttribute('data-loaded', 'true'))
  editor.on('synced', (synced) => document.body.setAttribute('data-synced', String(synced)))

  const offline = $<HTMLInputElement>('offline')
  offline.addEventListener('change', () => editor.setOffline(offline.checked))

  const nameInput = $<HTMLInputElement>('name')
  const colorInput = $<HTMLInputElement>('color')
  nameInput.value = user.name
  colorInput.value = user.color
  const updateUser = (): void => {
    user = { name: nameInput.value.trim() || user.name, color: colorInput.value }
    editor.setUser(user)
    try {
      localStorage.setItem('tandem:user', JSON.stringify(user))
    } catch {
      // storage may be unavailable (private mode); the name still applies to this tab
    }
  }
  nameInput.addEventListener('change', updateUser)
  colorInput.addEventListener('input', updateUser)

  // Re-rendered only when who is here, or a name or colour, changed: awareness changes on every
  // caret move (the cursor field), and rebuilding the list then cost a layout and a large
  // compositor commit per keystroke on a long document (crdt-bench/editor/profile-page.ts).
  const presence = $('presence')
  let shown = ''
  const renderPresence = (): void => {
    const users: [number, Partial<EditorUser>][] = []
    for (const [clientId, state] of editor.awareness.getStates()) {
      const u = (state as { user?: Partial<EditorUser> }).user
      if (u?.name) users.push([clientId, u])
    }
    const key = JSON.stringify(users.map(([id, u]) => [id, u.name, u.color]))
    if (key === shown) return
    shown = key
    const items: HTMLLIElement[] = []
    for (const [clientId, u] of users) {
      const li = document.createElement('li')
      li.dataset['client'] = String(clientId)
      const dot = document.createElement('span')
      dot.className = 'dot'
      dot.style.background = u.color ?? '#94a3b8'
      const name = document.createElement('span')
      name.textContent = u.name ?? ''
      li.append(dot, name)
      if (clientId === editor.doc.clientID) {
        const you = document.createElement('span')
        you.className = 'you'
        you.textContent = '(you)'
        li.append(you)
        items.unshift(li)
      } else {
        items.push(li)
      }
    }
    presence.replaceChildren(...items)
  }
  renderPresence()
  editor.awareness.on('change', renderPresence)

  const panel = mountCrdtPanel(editor.doc, {
    like: $('like'),
    likesCrdt: $('likes-crdt'),
    likesLww: $('likes-lww'),
    tagForm: $<HTMLFormElement>('tag-form'),
    tagInput: $<HTMLInputElement>('tag-input'),
    tagsCrdt: $('tags-crdt'),
    tagsLww: $('tags-lww'),
    titleForm: $<HTMLFormElement>('title-form'),
    titleInput: $<HTMLInputElement>('title-input'),
    titleCrdt: $('title-crdt'),
    titleLww: $('title-lww'),
  })
  window.tandem = { editor, panel }
  document.body.setAttribute('data-ready', 'true')
}

{
  const params = new URLSearchParams(location.search)
  void demoToken(params, params.get('room') || 'welcome').then(main)
}
