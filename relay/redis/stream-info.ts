/**
 * What the Redis edge asks Redis about a room's stream: where it ends, the newest id it ever
 * generated, and whether entries after a position were trimmed away. Read-only queries on the
 * command connection.
 *
 * @module
 */
import type { Redis } from 'ioredis'
import { STREAM_START, compareStreamIds } from './keys.ts'

/** `XINFO STREAM key` as a field list, or null when the stream does not exist. */
async function streamInfo(cmd: Redis, key: string): Promise<unknown[] | null> {
  try {
    return await cmd.call('XINFO', 'STREAM', key) as unknown[]
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) return null
    throw err
  }
}

/** The value of field `name` in an `XINFO STREAM` reply, as a string (undefined when absent). */
function field(info: unknown[], name: string): string | undefined {
  for (let i = 0; i + 1 < info.length; i += 2) if (String(info[i]) === name) return String(info[i + 1])
  return undefined
}

/** The newest id stream `key` ever generated (`0-0` when the stream does not exist). */
export async function lastGeneratedId(cmd: Redis, key: string): Promise<string> {
  const info = await streamInfo(cmd, key)
  return (info && field(info, 'last-generated-id')) ?? STREAM_START
}

/** True when stream `key` lost entries after `pos` (trimmed, expired, or never existed). */
export async function trimmedPast(cmd: Redis, key: string, pos: string): Promise<boolean> {
  const info = await streamInfo(cmd, key)
  if (!info) return true
  const deleted = field(info, 'max-deleted-entry-id')
  return deleted !== undefined && compareStreamIds(deleted, pos) > 0
}

/** The id of `key`'s last entry (the start when it is empty or gone). */
export async function streamEnd(cmd: Redis, key: string): Promise<string> {
  const last = await cmd.call('XREVRANGE', key, '+', '-', 'COUNT', 1) as Array<[string, unknown]>
  return last[0]?.[0] ?? STREAM_START
}
