/**
 * The body of a JSON edit → typed operations, every op's shape checked before any is applied
 * (fields, types, names; positions and schema are checked when the op runs, against the document
 * as the ops before it left it). Unknown fields are refused, so a misspelt field is an error, not
 * an op that silently does less.
 *
 * @module
 */
import { MAX_OPS, type EditOp, type MarkJson, type NodeJson } from './ops.ts'
import { invalidBody, invalidOperation } from './op-error.ts'

/** Longest CRDT or map name (UTF-16 units); the root's name adds the `crdt:<kind>:` prefix. */
export const MAX_NAME_LENGTH = 256

/** Deepest nesting of a JSON value (a map value, a set element, a register's value): the encoders that store them recurse. */
export const MAX_VALUE_DEPTH = 64

type Fields = Record<string, unknown>

/** Fields each op may carry, and which are required. */
const SHAPES: Readonly<Record<EditOp['op'], { required: readonly string[]; optional: readonly string[] }>> = {
  insertText: { required: ['at', 'text'], optional: ['marks'] },
  insertBlocks: { required: ['at', 'blocks'], optional: [] },
  delete: { required: ['from', 'to'], optional: [] },
  setBlockType: { required: ['at', 'type'], optional: ['attrs'] },
  setKey: { required: ['name', 'key', 'value'], optional: [] },
  deleteKey: { required: ['name', 'key'], optional: [] },
  increment: { required: ['name'], optional: ['by'] },
  addToSet: { required: ['name', 'value'], optional: [] },
  removeFromSet: { required: ['name', 'value'], optional: [] },
  setRegister: { required: ['name', 'value'], optional: ['kind'] },
}

const OP_NAMES = Object.keys(SHAPES) as Array<EditOp['op']>

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A shape error of one op's field. */
class FieldError extends Error {}

function position(fields: Fields, name: string, end: boolean): number | 'end' {
  const value = fields[name]
  if (end && value === 'end') return 'end'
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new FieldError(`${name} must be a non-negative integer${end ? ' or "end"' : ''}, got ${JSON.stringify(value) ?? 'nothing'}`)
  }
  return value
}

function nonEmptyString(fields: Fields, name: string, max = Infinity): string {
  const value = fields[name]
  if (typeof value !== 'string' || value === '') throw new FieldError(`${name} must be a non-empty string`)
  if (value.length > max) throw new FieldError(`${name} must be at most ${max} characters`)
  return value
}

function attrsOf(fields: Fields, name: string): Record<string, never> | undefined {
  const value = fields[name]
  if (value === undefined) return undefined
  if (!isRecord(value)) throw new FieldError(`${name} must be an object`)
  return value as Record<string, never>
}

function marksOf(value: unknown): MarkJson[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new FieldError('marks must be an array of marks ({"type":"strong"})')
  return value.map((mark, i) => {
    if (!isRecord(mark) || typeof mark.type !== 'string') throw new FieldError(`marks[${i}] must be an object with a string "type"`)
    if (mark.attrs !== undefined && !isRecord(mark.attrs)) throw new FieldError(`marks[${i}].attrs must be an object`)
    return mark as unknown as MarkJson
  })
}

/** The op's `value`, checked for depth without recursion (a hostile value is deeper than any stack). */
function jsonValue(fields: Fields): never {
  const value = fields.value
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth >= MAX_VALUE_DEPTH) throw new FieldError(`value is nested deeper than ${MAX_VALUE_DEPTH} levels`)
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1])
  }
  return value as never
}

/** A map key: a string; not `__proto__`, which no JSON reader of the map would show as a key. */
function mapKey(fields: Fields): string {
  const key = fields.key
  if (typeof key !== 'string') throw new FieldError('key must be a string')
  if (key === '__proto__') throw new FieldError('key "__proto__" cannot be read back as JSON')
  return key
}

/** One op's fields → the typed op; throws a {@link FieldError}. */
function parseOp(name: EditOp['op'], f: Fields): EditOp {
  switch (name) {
    case 'insertText': {
      if (typeof f.text !== 'string' || f.text === '') throw new FieldError('text must be a non-empty string')
      const marks = marksOf(f.marks)
      return { op: name, at: position(f, 'at', true), text: f.text, ...(marks ? { marks } : {}) }
    }
    case 'insertBlocks': {
      const blocks = f.blocks
      if (!Array.isArray(blocks) || blocks.length === 0) throw new FieldError('blocks must be a non-empty array of ProseMirror nodes')
      blocks.forEach((b, i) => {
        if (!isRecord(b) || typeof b.type !== 'string') throw new FieldError(`blocks[${i}] must be a ProseMirror node ({"type":"paragraph","content":[…]})`)
      })
      return { op: name, at: position(f, 'at', true), blocks: blocks as NodeJson[] }
    }
    case 'delete': {
      const from = position(f, 'from', false) as number
      const to = position(f, 'to', false) as number
      if (from >= to) throw new FieldError(`from must be less than to (from ${from}, to ${to})`)
      return { op: name, from, to }
    }
    case 'setBlockType': {
      const attrs = attrsOf(f, 'attrs')
      return { op: name, at: position(f, 'at', false) as number, type: nonEmptyString(f, 'type'), ...(attrs ? { attrs } : {}) }
    }
    case 'setKey':
      return { op: name, name: nonEmptyString(f, 'name', MAX_NAME_LENGTH), key: mapKey(f), value: jsonValue(f) }
    case 'deleteKey':
      return { op: name, name: nonEmptyString(f, 'name', MAX_NAME_LENGTH), key: mapKey(f) }
    case 'increment': {
      const by = f.by
      if (by !== undefined && (typeof by !== 'number' || !Number.isSafeInteger(by) || by === 0)) {
        throw new FieldError(`by must be a non-zero safe integer, got ${JSON.stringify(by)}`)
      }
      return { op: name, name: nonEmptyString(f, 'name', MAX_NAME_LENGTH), ...(by !== undefined ? { by: by as number } : {}) }
    }
    case 'addToSet':
    case 'removeFromSet':
      return { op: name, name: nonEmptyString(f, 'name', MAX_NAME_LENGTH), value: jsonValue(f) }
    case 'setRegister': {
      const kind = f.kind
      if (kind !== undefined && kind !== 'mv' && kind !== 'lww') throw new FieldError(`kind must be "mv" or "lww", got ${JSON.stringify(kind)}`)
      return { op: name, name: nonEmptyString(f, 'name', MAX_NAME_LENGTH), value: jsonValue(f), ...(kind ? { kind } : {}) }
    }
  }
}

/**
 * The operations of a PATCH body (already parsed from JSON). Throws an `invalid-operation`
 * RelayError naming the first bad op, its name and the reason.
 */
export function parseEdits(body: unknown): EditOp[] {
  if (!isRecord(body) || !Array.isArray(body.ops)) throw invalidBody('body must be a JSON object {"ops": [...]}')
  const extra = Object.keys(body).filter((k) => k !== 'ops')
  if (extra.length > 0) throw invalidBody(`unknown field ${JSON.stringify(extra[0])} in the body (only "ops")`)
  const raw: unknown[] = body.ops
  if (raw.length === 0) throw invalidBody('ops is empty')
  if (raw.length > MAX_OPS) throw invalidBody(`too many operations: ${raw.length} (at most ${MAX_OPS} per request)`)
  return raw.map((entry, index) => {
    if (!isRecord(entry)) throw invalidOperation(index, undefined, 'an operation must be an object {"op": "...", ...}')
    const name = entry.op
    if (typeof name !== 'string') throw invalidOperation(index, undefined, 'missing "op" (a string naming the operation)')
    if (!Object.hasOwn(SHAPES, name)) throw invalidOperation(index, name, `unknown operation (known: ${OP_NAMES.join(', ')})`)
    const op = name as EditOp['op']
    const shape = SHAPES[op]
    for (const key of Object.keys(entry)) {
      if (key !== 'op' && !shape.required.includes(key) && !shape.optional.includes(key)) {
        throw invalidOperation(index, op, `unknown field ${JSON.stringify(key)} (${op} takes ${[...shape.required, ...shape.optional].join(', ')})`)
      }
    }
    for (const key of shape.required) if (entry[key] === undefined) throw invalidOperation(index, op, `missing field ${JSON.stringify(key)}`)
    try {
      return parseOp(op, entry)
    } catch (error) {
      if (error instanceof FieldError) throw invalidOperation(index, op, error.message)
      throw error
    }
  })
}
