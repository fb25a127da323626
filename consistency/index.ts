// Barrel: cross-store consistency checks (docs/consistency.md). Implementation lives in named modules.
export { checkLink } from './check';
export { IdSorter, escapeId, unescapeId } from './id-sorter';
export { joinIds, type JoinSide, type JoinResult } from './merge-join';
export { faissLayout, faissEntries, type FaissLayout } from './readers/faiss';
export type { LinkSpec, CheckOptions, RedisIdSpec } from './types';
