/**
 * The history's storage model, without a relay (fast-check, fixed seeds): random edits by three
 * writers (text, block markers, marks, deletions) recorded as versions — deltas and random
 * checkpoints — then random retention rewrites. Every version left must rebuild to exactly the
 * state it named (its id is a hash of that state) and the text it showed; a diff between any
 * two versions left must read, without its deletions, as the newer text and, without its
 * insertions, as the older one; and a restore computed from any version left must give back
 * exactly that version's content on top of the newest state.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { capture, stateOf, versionId, type Head } from '../../../relay/history/capture.ts'
import type { VersionMeta } from '../../../relay/history/history-store.ts'
import { buildDoc, buildState, chainStart, contentOf } from '../../../relay/history/rebuild.ts'
import { rewrite } from '../../../relay/history/retention.ts'
import { diffVersions } from '../../../relay/history/diff.ts'
import { restoreUpdate } from '../../../relay/history/restore.ts'
import { ChangeAuthors, decodeAttribution, type Attribution } from '../../../relay/history/authors.ts'
import { createMarker } from '../../../editor/blocks/layout.ts'
import { textNodes, type PmNode } from './helpers.ts'

type Edit = { who: number; kind: 'insert' | 'delete' | 'marker' | 'bold'; at: number; len: number; text: string }

const edit = fc.record({
  who: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom('insert', 'insert', 'insert', 'delete', 'delete', 'marker', 'bold') as fc.Arbitrary<Edit['kind']>,
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 6 }),
  text: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }).map((units) => units.join('')),
})

/** Each writer types from its own letters, so the text of an insertion names who typed it. */
const LETTERS = [['a', 'b', ' '], ['x', 'y', '-'], ['é', '😀', '_']] as const
const typedBy = (ch: string): string => `u${LETTERS.findIndex((l) => (l as readonly string[]).includes(ch))}`

const scenario = fc.record({
  rounds: fc.array(fc.record({ edits: fc.array(edit, { minLength: 1, maxLength: 8 }), checkpoint: fc.boolean(), named: fc.boolean() }), { minLength: 2, maxLength: 9 }),
  removals: fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
})

/** `at` moved off the middle of a surrogate pair (an editor never splits a character; Yjs would replace its halves with U+FFFD). */
function whole(text: string, at: number, forward = false): number {
  const code = text.charCodeAt(at)
  return at > 0 && code >= 0xdc00 && code <= 0xdfff ? at + (forward ? 1 : -1) : at
}

function apply(doc: Y.Doc, e: Edit): void {
  const text = doc.getText('blocks')
  // positions count every unit (markers too); toString skips markers, so snap on the delta's view
  const units = text.toDelta().map((op: { insert: unknown }) => (typeof op.insert === 'string' ? op.insert : '\u0001')).join('')
  const at = text.length === 0 ? 0 : whole(units, e.at % (text.length + 1))
  const typed = [...e.text].map((d) => LETTERS[e.who]![Number(d)]!).join('')
  if (e.kind === 'insert' || text.length === 0) text.insert(at, typed)
  else if (e.kind === 'delete') {
    const from = whole(units, Math.min(at, text.length - 1))
    text.delete(from, whole(units, Math.min(text.length, from + e.len), true) - from)
  } else if (e.kind === 'marker') text.insert(at, createMarker({ type: 'paragraph', attrs: {}, parents: [] }) as never)
  else {
    const from = whole(units, Math.min(at, text.length - 1))
    text.format(from, whole(units, Math.min(text.length, from + e.len), true) - from, { strong: {} })
  }
}

interface Recorded {
  meta: VersionMeta
  entry: Uint8Array
  attribution: Attribution | null
  text: string
  content: string
}

const plain = (node: PmNode, skip: string): string =>
  textNodes(node).filter((n) => !n.marks?.some((m) => m.type === skip)).map((n) => n.text).join('')

describe('history model', () => {
  it('keeps every version exact through retention rewrites; diffs and restores agree with the versions', () => {
    fc.assert(
      fc.property(scenario, ({ rounds, removals }) => {
        const writers = [0, 1, 2].map((i) => {
          const doc = new Y.Doc()
          doc.clientID = 100 + i
          return doc
        })
        const live = new Y.Doc()
        const authors = new ChangeAuthors()
        // each writer's updates reach the live doc under its name
        live.on('afterTransaction', (tr: Y.Transaction) => authors.record(tr, typeof tr.origin === 'number' ? { id: `u${tr.origin}`, verified: true } : null))
        writers.forEach((w, i) => w.on('update', (u: Uint8Array) => Y.applyUpdate(live, u, i)))
        const sync = (): void => {
          const state = Y.encodeStateAsUpdate(live)
          for (const w of writers) Y.applyUpdate(w, state, 'sync')
        }
        let head: Head | null = null
        let versions: Recorded[] = []
        rounds.forEach((round, r) => {
          for (const e of round.edits) {
            apply(writers[e.who]!, e)
            if (e.at % 3 === 0) sync()
          }
          sync()
          const taken = capture(live, head, round.checkpoint)
          if (!taken) return
          const { authors: list, attribution } = authors.take()
          const meta: VersionMeta = {
            id: taken.id, seq: r, time: r, kind: 'edit', authors: list, inserted: taken.inserted, deleted: taken.deleted,
            checkpoint: taken.checkpoint, bytes: taken.entry.byteLength, attributed: attribution !== null,
            ...(round.named ? { name: `n${r}` } : {}),
          }
          head = { id: taken.id, state: taken.state }
          versions.push({ meta, entry: taken.entry, attribution, text: live.getText('blocks').toString(), content: contentOf(live) })
        })
        const check = (): void => {
          const metas = versions.map((v) => v.meta)
          versions.forEach((v, i) => {
            const start = chainStart(metas, i)
            const state = buildState(versions.slice(start, i + 1).map((x) => x.entry))
            const doc = new Y.Doc()
            Y.applyUpdate(doc, state)
            expect(versionId(stateOf(doc))).toBe(v.meta.id)
            expect(doc.getText('blocks').toString()).toBe(v.text)
            expect(contentOf(doc)).toBe(v.content)
            doc.destroy()
          })
          for (let a = 0; a < versions.length; a++) {
            for (let b = 0; b < versions.length; b++) {
              if (a === b) continue
              const lo = Math.min(a, b)
              const start = chainStart(metas, lo)
              const entries = new Map(versions.slice(start, Math.max(a, b) + 1).map((v) => [v.meta.seq, v.entry]))
              const attributions = new Map(versions.filter((v) => v.attribution).map((v) => [v.meta.seq, v.attribution!]))
              const diff = diffVersions({ versions: metas, from: a, to: b, entries, attributions, chainStart: start })
              expect(plain(diff.doc as PmNode, 'deletion')).toBe(versions[b]!.text)
              expect(plain(diff.doc as PmNode, 'insertion')).toBe(versions[a]!.text)
              // every change is attributed to one of the three writers; a text added in between to its typist
              for (const n of textNodes(diff.doc as PmNode)) {
                for (const m of n.marks ?? []) {
                  if (m.type !== 'insertion' && m.type !== 'deletion') continue
                  expect(['u0', 'u1', 'u2']).toContain(m.attrs!['author'])
                  const added = (m.type === 'insertion') === (b > a)
                  if (added) for (const ch of n.text!) expect(typedBy(ch)).toBe(m.attrs!['author'])
                }
              }
            }
          }
          // a restore of any version, computed on top of the live doc, shows exactly that version
          versions.forEach((v, i) => {
            const start = chainStart(metas, i)
            const scratch = buildDoc([Y.encodeStateAsUpdate(live)], false)
            const update = restoreUpdate(versions.slice(start, i + 1).map((x) => x.entry), scratch)
            if (update) Y.applyUpdate(scratch, update)
            expect(contentOf(scratch)).toBe(v.content)
            scratch.destroy()
          })
        }
        check()
        for (const picks of removals) {
          if (versions.length < 2) break
          const removable = versions.slice(0, -1).filter((v) => v.meta.name === undefined)
          const remove = new Set(picks.map((p) => removable[p % Math.max(1, removable.length)]?.meta.seq).filter((s): s is number => s !== undefined))
          const stored = new Map(versions.map((v) => [v.meta.seq, { entry: v.entry, attribution: v.attribution ?? undefined }]))
          const { ops, kept } = rewrite('room', versions.map((v) => v.meta), remove, stored)
          const entries = new Map(versions.map((v) => [v.meta.seq, v.entry]))
          const attributions = new Map(versions.map((v) => [v.meta.seq, v.attribution]))
          for (const op of ops) {
            const seq = parseInt(op.key, 16)
            if (op.bucket.startsWith('d')) op.value ? entries.set(seq, op.value) : entries.delete(seq)
            if (op.bucket.startsWith('a')) attributions.set(seq, op.value ? decodeAttribution(op.value) : null)
          }
          const bySeq = new Map(versions.map((v) => [v.meta.seq, v]))
          versions = kept.map((meta) => ({ ...bySeq.get(meta.seq)!, meta, entry: entries.get(meta.seq)!, attribution: attributions.get(meta.seq) ?? null }))
          expect(versions.map((v) => v.meta.seq)).toEqual([...bySeq.keys()].filter((s) => !remove.has(s)))
          expect(versions[0]!.meta.checkpoint).toBe(true)
          check()
        }
        live.destroy()
        for (const w of writers) w.destroy()
      }),
      { seed: 27, numRuns: 60 },
    )
  }, 120_000)
})
