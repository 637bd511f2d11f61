/**
 * The intended result of an operation stream, and how many updates a final state lost.
 *
 * Intent is defined from what each writer had observed when it wrote (the ids of the
 * operations its replica had received), independently of any strategy:
 * - counter: the value is the number of increments (a wrong value counts |error| lost updates,
 *   at most the number of increments, so an overcount cannot exceed "everything lost");
 * - set: an element is present iff some add of it was not observed by any remove of it
 *   (add-wins: a remove removes only what it saw);
 * - map field / register: every write that no later write of the same field observed must
 *   still be visible (as the value, as one of the siblings, or inside a merged value).
 */
import type { TimedOp, WorkloadKind } from './workload.ts'

/** An operation with the set of op ids its writer had observed. */
export interface ObservedOp extends TimedOp { readonly observed: ReadonlySet<number> }

/** Values a strategy shows for one key (after its read-side resolution). */
export type KeyValue = unknown

/** Whether `write` is visible in a field value (a string, siblings, or a '|'-joined merge). */
export function visible (fieldValue: unknown, write: string): boolean {
  if (Array.isArray(fieldValue)) return fieldValue.some(v => visible(v, write))
  if (typeof fieldValue === 'string') return fieldValue === write || fieldValue.split('|').includes(write)
  return false
}

/** Number of lost updates of `kind` given the observed ops and each key's final value. */
export function lostUpdates (kind: WorkloadKind, ops: readonly ObservedOp[], read: (key: string) => KeyValue): number {
  const byKey = new Map<string, ObservedOp[]>()
  for (const o of ops) { let l = byKey.get(o.key); if (!l) byKey.set(o.key, l = []); l.push(o) }
  let lost = 0
  for (const [key, list] of byKey) {
    const v = read(key)
    if (kind === 'counter') { lost += Math.min(list.length, Math.abs(list.length - (typeof v === 'number' ? v : 0))); continue }
    if (kind === 'set') {
      const intended = new Set<string>()
      for (const a of list) {
        if (a.op.t !== 'add') continue
        const elem = a.op.elem
        if (!list.some(r => r.op.t === 'remove' && r.op.elem === elem && r.observed.has(a.id))) intended.add(elem)
      }
      const actual = new Set(Array.isArray(v) ? v.map(String) : [])
      for (const e of intended) if (!actual.has(e)) lost++
      for (const e of actual) if (!intended.has(e)) lost++
      continue
    }
    const fieldOf = (o: ObservedOp): string => o.op.t === 'field' ? o.op.field : ''
    for (const w of list) {
      if (list.some(o => o !== w && fieldOf(o) === fieldOf(w) && o.observed.has(w.id))) continue
      const value = (w.op as { value: string }).value
      const fv = kind === 'map' ? (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[fieldOf(w)] : Array.isArray(v) ? v.map(r => (r as Record<string, unknown> | null)?.[fieldOf(w)]) : undefined) : v
      if (!visible(fv, value)) lost++
    }
  }
  return lost
}
