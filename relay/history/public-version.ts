/**
 * A version as the HTTP API (and the `version.created` webhook) shows it.
 *
 * @module
 */
import type { VersionAuthor } from './authors.ts'
import type { VersionMeta } from './history-store.ts'

/** A version as the HTTP API shows it. */
export interface PublicVersion {
  id: string
  /** ISO 8601. */
  time: string
  kind: VersionMeta['kind']
  name?: string
  namedBy?: VersionAuthor
  restoredFrom?: string
  authors: VersionAuthor[]
  /** Units (characters, block markers, marks) added and removed since the previous version. */
  changes: { inserted: number; deleted: number }
}

/** The public form of a version. */
export function publicVersion(meta: VersionMeta): PublicVersion {
  return {
    id: meta.id,
    time: new Date(meta.time).toISOString(),
    kind: meta.kind,
    ...(meta.name !== undefined ? { name: meta.name } : {}),
    ...(meta.namedBy ? { namedBy: meta.namedBy } : {}),
    ...(meta.restoredFrom ? { restoredFrom: meta.restoredFrom } : {}),
    authors: meta.authors,
    changes: { inserted: meta.inserted, deleted: meta.deleted },
  }
}

