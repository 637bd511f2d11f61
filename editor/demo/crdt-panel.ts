/**
 * The demo's side panel: a like counter, a tag set and a title register, each written twice
 * into the editor's Y.Doc — once as a CRDT and once as its last-writer-wins baseline — so that
 * concurrent (for example offline) clicks in two tabs show what each keeps.
 */
import type * as Y from 'yjs'
import { counter, orSet, mvRegister, lwwRegister, lww } from '../../crdt/index.ts'

/** The panel's DOM elements. */
export interface CrdtPanelElements {
  like: HTMLElement
  likesCrdt: HTMLElement
  likesLww: HTMLElement
  tagForm: HTMLFormElement
  tagInput: HTMLInputElement
  tagsCrdt: HTMLElement
  tagsLww: HTMLElement
  titleForm: HTMLFormElement
  titleInput: HTMLInputElement
  titleCrdt: HTMLElement
  titleLww: HTMLElement
}

/** The panel's data types, exposed for tests and for poking at in the console. */
export interface CrdtPanel {
  likes: ReturnType<typeof counter>
  likesLww: ReturnType<typeof lww.counter>
  tags: ReturnType<typeof orSet<string>>
  tagsLww: ReturnType<typeof lww.set<string>>
  title: ReturnType<typeof mvRegister<string>>
  titleLww: ReturnType<typeof lwwRegister<string>>
  destroy(): void
}

function chip(text: string, onRemove: () => void): HTMLElement {
  const el = document.createElement('span')
  el.className = 'chip'
  el.textContent = text
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.textContent = '×'
  remove.title = `Remove ${text}`
  remove.addEventListener('click', onRemove)
  el.append(remove)
  return el
}

function emptyNote(text: string): HTMLElement {
  const el = document.createElement('span')
  el.className = 'empty'
  el.textContent = text
  return el
}

/** Creates the six data types on `doc` and binds them to the panel's elements. */
export function mountCrdtPanel(doc: Y.Doc, el: CrdtPanelElements): CrdtPanel {
  const likes = counter(doc, 'demo-likes')
  const likesLww = lww.counter(doc, 'demo-likes')
  const tags = orSet<string>(doc, 'demo-tags')
  const tagsLww = lww.set<string>(doc, 'demo-tags')
  const title = mvRegister<string>(doc, 'demo-title')
  const titleLww = lwwRegister<string>(doc, 'demo-title')

  const renderLikes = (): void => {
    el.likesCrdt.textContent = String(likes.value)
    el.likesLww.textContent = String(likesLww.value)
  }
  const renderTags = (): void => {
    const crdt = tags.values().sort()
    el.tagsCrdt.replaceChildren(...(crdt.length ? crdt.map((t) => chip(t, () => tags.delete(t))) : [emptyNote('none')]))
    const base = tagsLww.values().sort()
    el.tagsLww.replaceChildren(...(base.length ? base.map((t) => chip(t, () => tagsLww.delete(t))) : [emptyNote('none')]))
  }
  const renderTitle = (): void => {
    const siblings = [...title.values].sort()
    el.titleCrdt.classList.toggle('conflict', siblings.length > 1)
    const rows: HTMLElement[] = siblings.map((value) => {
      const row = document.createElement('div')
      row.className = 'sibling'
      const text = document.createElement('span')
      text.textContent = value
      row.append(text)
      if (siblings.length > 1) {
        const keep = document.createElement('button')
        keep.type = 'button'
        keep.textContent = 'keep'
        keep.title = `Resolve the conflict with “${value}”`
        keep.dataset['resolve'] = value
        keep.addEventListener('click', () => title.resolve(value))
        row.append(keep)
      }
      return row
    })
    if (siblings.length > 1) {
      const note = document.createElement('span')
      note.className = 'conflict-note'
      note.textContent = `${siblings.length} concurrent values`
      rows.unshift(note)
    }
    el.titleCrdt.replaceChildren(...(rows.length ? rows : [emptyNote('untitled')]))
    const winner = titleLww.value
    el.titleLww.replaceChildren(winner === undefined ? emptyNote('untitled') : document.createTextNode(winner))
  }

  const stops = [
    likes.observe(renderLikes),
    likesLww.observe(renderLikes),
    tags.observe(renderTags),
    tagsLww.observe(renderTags),
    title.observe(renderTitle),
    titleLww.observe(renderTitle),
  ]
  renderLikes()
  renderTags()
  renderTitle()

  const onLike = (): void => {
    likes.increment()
    likesLww.increment()
  }
  const onTag = (event: SubmitEvent): void => {
    event.preventDefault()
    const tag = el.tagInput.value.trim()
    if (!tag) return
    tags.add(tag)
    tagsLww.add(tag)
    el.tagInput.value = ''
  }
  const onTitle = (event: SubmitEvent): void => {
    event.preventDefault()
    const value = el.titleInput.value.trim()
    if (!value) return
    title.set(value)
    titleLww.set(value)
    el.titleInput.value = ''
  }
  el.like.addEventListener('click', onLike)
  el.tagForm.addEventListener('submit', onTag)
  el.titleForm.addEventListener('submit', onTitle)

  return {
    likes,
    likesLww,
    tags,
    tagsLww,
    title,
    titleLww,
    destroy() {
      for (const stop of stops) stop()
      el.like.removeEventListener('click', onLike)
      el.tagForm.removeEventListener('submit', onTag)
      el.titleForm.removeEventListener('submit', onTitle)
    },
  }
}
