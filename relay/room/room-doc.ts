/**
 * The Yjs objects a room holds — its document and its awareness — with events that cost nothing
 * when nobody listens.
 *
 * Every Yjs transaction emits six events (`beforeAllTransactions`, `beforeTransaction`,
 * `beforeObserverCalls`, `afterTransaction`, `afterTransactionCleanup`, `afterAllTransactions`),
 * and every awareness update two (`change`, `update`). lib0's `emit` builds a new Map for an
 * event without listeners and copies the listeners into a new array either way; a relay applies
 * one transaction per forwarded update and one awareness update per cursor move, and listens to
 * one of these events each. This `emit` returns at once when the event has no listener, and
 * otherwise does what lib0's does: calls a copy of the listeners taken before the first call,
 * so a listener added or removed meanwhile does not change this round.
 *
 * `npm run bench:relay:apply` measures both against the stock classes in the same run.
 *
 * @module
 */
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'

type Listener = (...args: unknown[]) => void

/** lib0's `emit` (see the module doc), for an object holding lib0's `_observers`. */
function emitQuietly(target: object, name: string, args: unknown[]): void {
  const listeners = (target as { _observers: Map<string, Set<Listener>> })._observers.get(name)
  if (listeners === undefined || listeners.size === 0) return
  if (listeners.size === 1) {
    // The one listener, taken before it runs (as lib0's copy would be).
    for (const f of listeners) {
      f(...args)
      return
    }
  }
  for (const f of Array.from(listeners)) f(...args)
}

/** A room's document (see the module doc). Options as `Y.Doc`'s. */
export class RoomDoc extends Y.Doc {
  override emit(name: string, args: unknown[]): void {
    emitQuietly(this, name, args)
  }
}

/** A room's awareness (see the module doc). */
export class RoomAwareness extends Awareness {
  override emit(name: string, args: unknown[]): void {
    emitQuietly(this, name, args)
  }
}
