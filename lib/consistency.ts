/**
 * Cross-store consistency reports: the shapes shared by the checks (consistency/), their activity,
 * the consistency workflow, the `records/consistency/<id>` records and the CLI. Pure (the workflow
 * bundle imports it): no Node APIs.
 */
import type { RestoreTargetOverride } from './domain';

/** Record kind of consistency reports in the repository (`records/consistency/<id>`). */
export const CONSISTENCY_RECORD_KIND = 'consistency';

export type ConsistencyStore = 'redis' | 'faiss' | 'qdrant';

/** How many, and the first few ids (in id order). */
export interface Finding {
  count: number;
  examples: string[];
}

export interface StoreVectorReport {
  /** Dimension the store declares (FAISS header, Qdrant collection config). */
  dimension: number;
  /** The link's `dimension`, when set. */
  expected?: number;
  /** Vectors actually read and checked. */
  checked: number;
  /** False when the index type keeps no raw vectors (PQ, SQ…): only the declared dimension was checked. */
  readable: boolean;
  note?: string;
  /** Vectors holding NaN or ±Infinity. */
  nonFinite: Finding;
  /** Vectors whose every component is 0. */
  zero: Finding;
  /** Vectors whose length differs from the expected (or declared) dimension. */
  wrongDimension: Finding;
}

export interface StoreReport {
  store: ConsistencyStore;
  source: string;
  /** Printable location: "redis://…/0 keys chimera-vectors:*", a file path, "http://…/collections/docs". */
  where: string;
  /** Ids read, duplicates included. */
  count: number;
  /** Distinct ids. */
  unique: number;
  /** Ids that occur more than once. */
  duplicates: Finding;
  /** Redis records whose id could not be read (field missing, wrong type, not JSON): by key. */
  withoutId?: Finding;
  vectors?: StoreVectorReport;
}

/** Ids present in `from` and absent from `to`. */
export interface MissingFinding extends Finding {
  from: ConsistencyStore;
  to: ConsistencyStore;
}

export interface VectorComparison {
  /** Ids present in both FAISS and Qdrant that were compared. */
  sampled: number;
  tolerance: number;
  /** Both sides were L2-normalised first (the Qdrant vector uses Cosine distance, which Qdrant stores normalised). */
  normalized: boolean;
  differing: { count: number; examples: { id: string; maxDiff: number }[] };
  /** Why no comparison was made (e.g. the index type keeps no raw vectors). */
  skipped?: string;
}

export interface LinkReport {
  link: string;
  ok: boolean;
  stores: StoreReport[];
  missing: MissingFinding[];
  comparison?: VectorComparison;
  /** One line per disagreement, naming the link, the stores and examples. */
  problems: string[];
  durationMs: number;
}

export interface ConsistencyReport {
  /** Record id in the repository (`records/consistency/<id>`). */
  id: string;
  ok: boolean;
  time: string;
  /** The operation the check belongs to (a restore, a drill, an incident), when not a stand-alone check. */
  operation?: { kind: string; id: string };
  /** Sources checked somewhere else than their configured location (scratch or restored targets). */
  targets?: Record<string, RestoreTargetOverride>;
  links: LinkReport[];
  /** Every link's problems, prefixed with the link name. */
  problems: string[];
  durationMs: number;
  /** E.g. why nothing was checked. */
  note?: string;
}

/** Input of the checkConsistency activity. */
export interface CheckConsistencyInput {
  /** Link names. @default every configured link (or, with `sources`, every link touching one of them) */
  links?: string[];
  /** Only links touching one of these sources (a restore checks the links of what it restored). */
  sources?: string[];
  /**
   * With `sources`: `any` keeps links touching one of them (a restore: restored stores against the
   * live others); `all` keeps links whose every side is among them (a drill: scratch targets only).
   * @default 'any'
   */
  sourcesMatch?: 'any' | 'all';
  /** Per source name: check this target instead of the configured location (drill scratch targets, restored copies). */
  targets?: Record<string, RestoreTargetOverride>;
  /** The operation the report belongs to; also names the record (`<kind>-<id>`). */
  operation?: { kind: string; id: string };
}

/** Input of consistencyCheckWorkflow (`lifeboat check`). */
export interface ConsistencyCheckInput {
  links?: string[];
  targets?: Record<string, RestoreTargetOverride>;
  /** Who started it: "cli", "schedule", "client". */
  trigger?: string;
}
