import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes Lifeboat sets on its workflows so the Temporal UI
 * can filter by them. A production namespace must register them once
 * (`temporal operator search-attribute create`, see docs/operations.md); the
 * dev server started by Lifeboat registers them at start.
 */
export const SEARCH_ATTRIBUTES = {
  /** What the workflow does: backup | restore | drill | dr | prune | verify. */
  LifeboatKind: 'Keyword',
  /** Source names involved (e.g. "sessions-redis"). */
  LifeboatSource: 'KeywordList',
  /** Recovery point id written or restored. */
  LifeboatRecoveryPoint: 'Keyword',
  /** Disaster recovery: the incident id (e.g. "INC-1042"). */
  LifeboatIncident: 'Keyword',
  /** Disaster recovery: sev1..sev4. */
  LifeboatSeverity: 'Keyword',
  /** Disaster recovery: the current phase (assessing, awaiting-approval, recovering, ...); drills: their phase, then passed | failed | cancelled. */
  LifeboatPhase: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys for upserting from workflows and setting at start from clients. */
export const SA = {
  kind: defineSearchAttributeKey('LifeboatKind', SearchAttributeType.KEYWORD),
  source: defineSearchAttributeKey('LifeboatSource', SearchAttributeType.KEYWORD_LIST),
  recoveryPoint: defineSearchAttributeKey('LifeboatRecoveryPoint', SearchAttributeType.KEYWORD),
  incident: defineSearchAttributeKey('LifeboatIncident', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('LifeboatSeverity', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('LifeboatPhase', SearchAttributeType.KEYWORD),
} as const;
