/**
 * A refused operation of a JSON edit: the reason an op cannot be applied ({@link OpRefused},
 * thrown by the modules that apply one op), and the request's answer naming the op's index, its
 * name and that reason (`400 {"error":"invalid-operation","reason":"ops[2] (insertText): …"}`).
 *
 * @module
 */
import { RelayError } from '../wire/errors.ts'

/** Why one operation cannot be applied (its index and name are added by the caller). */
export class OpRefused extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'OpRefused'
  }
}

/** The request's refusal: `ops[<index>] (<op>): <reason>`. */
export function invalidOperation(index: number, op: string | undefined, reason: string): RelayError {
  return new RelayError('invalid-operation', `ops[${index}]${op ? ` (${op})` : ''}: ${reason}`)
}

/** A refusal of the whole body (not JSON, no `ops` list, too many ops). */
export function invalidBody(reason: string): RelayError {
  return new RelayError('invalid-operation', reason)
}
