/**
 * relay/history: document history — versions recorded as rooms go quiet, named versions,
 * restore as a forward change, diffs attributed to authors, retention — as an extension that
 * `createRelay` builds in. Imports `room/`, `wire/`, `http/` (the RouteKit and the document
 * JSON), `integrations/` (the `version.created` webhook) and, outside relay/, the editor's
 * block layout; never `server/`, which creates it.
 *
 * @module
 */
export { History, historyExtension, type HistoryOptions, type HistoryContext } from './history-extension.ts'
export { publicVersion, type PublicVersion } from './public-version.ts'
export type { VersionAuthor, Attribution } from './authors.ts'
export type { VersionMeta } from './history-store.ts'
export type { Retention } from './retention.ts'
export { diffSchema } from './diff.ts'
export type { HistoryApi } from './history-routes.ts'
