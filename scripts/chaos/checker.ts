/**
 * The campaign's checker: compares what was acknowledged (type-100 saved acks reaching each
 * operation's clock, or for a delete-only operation, the ack's stored delete set covering what
 * it deleted) with what every relay and every client holds at the end.
 *
 * - every copy is equal (text, map, counter, set);
 * - every acknowledged insert / set / add is present (unless its own writer removed it later),
 *   every acknowledged removal stays removed;
 * - the counter equals the sum of the writers' contributions, and each writer's contribution
 *   lies between its acknowledged and its issued increments (equal to both for a writer still
 *   connected at the end, whose every write is acknowledged by then);
 * - no token appears twice or was never written.
 *
 * @module
 */
import * as Y from 'yjs'
import { counter, orSet } from '../../crdt/index.ts'
import { COUNTER, SET, tokensOf, type Op, type Writer } from './writer.ts'

/** One copy of both rooms: a relay (live or on disk) or a client. */
export interface Copy {
  where: string
  text: Y.Doc
  crdt: Y.Doc
}

/** What a copy holds, in comparable form. */
export interface Projection {
  text: string
  map: Record<string, unknown>
  counter: number
  contributions: Record<string, number>
  set: string[]
}

export function project(copy: Copy): Projection {
  const map = copy.text.getMap('m').toJSON() as Record<string, unknown>
  const sortedMap = Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const c = counter(copy.crdt, COUNTER, { replica: 'checker' })
  const contributions = Object.fromEntries([...c.state().p.counts].sort(([a], [b]) => (a < b ? -1 : 1)))
  return {
    text: copy.text.getText('t').toString(),
    map: sortedMap,
    counter: c.value,
    contributions,
    set: [...orSet<string>(copy.crdt, SET, { replica: 'checker' }).values()].sort(),
  }
}

/** One violated acknowledged write. */
export interface Loss {
  writer: string
  op: Op
  where: string
  why: string
}

export interface CheckResult {
  copies: number
  equal: boolean
  /** Copies whose projection differs from the first one's, with a short diff. */
  differences: string[]
  ops: number
  acked: number
  lost: Loss[]
  counter: number
  problems: string[]
}

function firstDifference(a: Projection, b: Projection): string {
  for (const key of Object.keys(a) as Array<keyof Projection>) {
    const x = JSON.stringify(a[key])
    const y = JSON.stringify(b[key])
    if (x !== y) return `${key}: ${x.slice(0, 120)} vs ${y.slice(0, 120)}`
  }
  return 'equal'
}

/** What the checker reads of a writer. */
export type CheckedWriter = Pick<Writer, 'name' | 'kind' | 'ops' | 'gone' | 'doc' | 'acked' | 'isAcked'>

/** Checks `copies` against the writers' logs. */
export function check(writers: readonly CheckedWriter[], copies: readonly Copy[]): CheckResult {
  const projections = copies.map((c) => {
    const p = project(c)
    return { where: c.where, p, tokens: new Set(tokensOf(p.text)), set: new Set(p.set) }
  })
  const differences: string[] = []
  const first = projections[0]
  for (const other of projections.slice(1)) {
    const diff = firstDifference(first!.p, other.p)
    if (diff !== 'equal') differences.push(`${first!.where} vs ${other.where}: ${diff}`)
  }
  const lost: Loss[] = []
  const problems: string[] = []
  let ops = 0
  let acked = 0
  const issuedTokens = new Set<string>()
  for (const w of writers) {
    const removed = new Set<string>()
    for (const op of w.ops) if (op.kind === 'delete' || op.kind === 'delete-only') removed.add(op.token)
    else if (op.kind === 'unset') removed.add(op.key)
    let ackedInc = 0
    let issuedInc = 0
    for (const op of w.ops) {
      ops++
      const isAcked = w.isAcked(op)
      if (isAcked) acked++
      if (op.kind === 'insert') issuedTokens.add(op.token)
      if (op.kind === 'increment') {
        issuedInc += op.by
        if (isAcked) ackedInc += op.by
      }
      if (!isAcked) continue
      for (const { where, p, tokens, set } of projections) {
        const fail = (why: string): void => void lost.push({ writer: w.name, op, where, why })
        switch (op.kind) {
          case 'insert':
            if (!removed.has(op.token) && !tokens.has(op.token)) fail('acknowledged insert missing')
            break
          case 'delete':
          case 'delete-only':
            if (tokens.has(op.token)) fail('acknowledged delete undone')
            break
          case 'set':
            if (!removed.has(op.key) && p.map[op.key] !== op.value) fail(`acknowledged set missing (holds ${JSON.stringify(p.map[op.key])})`)
            break
          case 'unset':
            if (op.key in p.map) fail('acknowledged unset undone')
            break
          case 'add':
            if (!set.has(op.value)) fail('acknowledged add missing')
            break
          default:
            break
        }
      }
    }
    if (w.kind !== 'crdt') continue
    for (const { where, p } of projections) {
      const got = p.contributions[String(w.doc.clientID)] ?? 0
      if (got < ackedInc) lost.push({ writer: w.name, op: { kind: 'increment', by: ackedInc - got, clock: w.acked }, where, why: `counter holds ${got} of ${ackedInc} acknowledged increments` })
      if (got > issuedInc) problems.push(`${where}: ${w.name} contributes ${got} > ${issuedInc} issued`)
      if (!w.gone && got !== issuedInc) problems.push(`${where}: connected writer ${w.name} contributes ${got}, issued ${issuedInc}`)
    }
  }
  for (const { where, p } of projections) {
    const sum = Object.values(p.contributions).reduce((a, b) => a + b, 0)
    if (sum !== p.counter) problems.push(`${where}: counter ${p.counter} != sum of contributions ${sum}`)
    const tokens = tokensOf(p.text)
    if (new Set(tokens).size !== tokens.length) problems.push(`${where}: a token appears twice`)
    const stray = tokens.filter((t) => !issuedTokens.has(t))
    if (stray.length > 0) problems.push(`${where}: tokens never written: ${stray.slice(0, 3).join(', ')}`)
  }
  return { copies: copies.length, equal: differences.length === 0, differences, ops, acked, lost, counter: first?.p.counter ?? 0, problems }
}
