/**
 * The storage seam. The room core talks only to this interface; every adapter runs the
 * shared conformance suite in `test/integration/relay/storage-conformance.test.ts`.
 *
 * @module
 */

/** An append-only store of Yjs updates per room. */
export interface StorageAdapter {
  /** Every stored update of `room`, oldest first (empty when the room was never stored). Rejects when the store cannot be read. */
  load(room: string): Promise<Uint8Array[]>
  /**
   * Durably appends `updates` to `room`'s log; `stateVector` is what the room holds once these
   * are included. Once the append resolves, {@link getStateVector} reports it — in this process
   * and after a crash (an adapter may write the vector later, as long as it can rebuild it from
   * the log when it opens again).
   */
  append(room: string, updates: Uint8Array[], stateVector: Uint8Array): Promise<void>
  /**
   * The state vector given with `room`'s last resolved append — what its log holds (a snapshot
   * compaction may hold updates whose append is still to come) — or null when the room was never
   * stored.
   */
  getStateVector(room: string): Promise<Uint8Array | null>
  /** Every stored room name. */
  listRooms(): Promise<string[]>
  /**
   * Shrinks `room`'s log; appends made meanwhile are kept, and a crash midway loses nothing.
   * With `snapshot` — the room's whole state as one update, covering every update appended to
   * `room` so far (the relay passes `Y.encodeStateAsUpdate` of its live doc) — the log is
   * replaced by it without being read. Without, the log is read and merged (off the event
   * loop where it matters).
   */
  compact(room: string, snapshot?: Uint8Array): Promise<void>
  /** Waits for background work and closes the store. */
  close(): Promise<void>
}
