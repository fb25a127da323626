/**
 * Custom search attributes Lifeboat sets on its workflows so the Temporal UI
 * can filter by them. A production namespace must register them once
 * (`temporal operator search-attribute create`, see docs/operations.md); the
 * dev server started by Lifeboat registers them at start.
 */
export const SEARCH_ATTRIBUTES = {
  /** What the workflow does: backup | restore | drill | dr | prune | roundtrip. */
  LifeboatKind: 'Keyword',
  /** Source names involved (e.g. "sessions-redis"). */
  LifeboatSource: 'KeywordList',
  /** Recovery point id written or restored. */
  LifeboatRecoveryPoint: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
