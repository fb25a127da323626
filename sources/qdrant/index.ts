/**
 * Qdrant source adapter: back up a collection as a native snapshot or as a
 * portable point export, restore it (optionally behind an atomic alias
 * switch), and prove the restore with fingerprints and probe queries.
 * Knows nothing of Temporal or the repository (see ../types.ts).
 */
export { backupQdrantSnapshot } from './snapshot-backup';
export { restoreQdrantSnapshot } from './snapshot-restore';
export { backupQdrantPoints } from './points-backup';
export { restoreQdrantPoints } from './points-restore';
export { fingerprintQdrant, type FingerprintOptions } from './fingerprint';
export { verifyQdrantRestore, type QdrantVerifyOptions } from './verify';
export {
  preflightQdrantRestore,
  assertQdrantRestorable,
  qdrantCollectionExists,
  type QdrantPreflightResult,
  type QdrantPreflightOptions,
} from './preflight';
export { switchQdrantAlias, deleteQdrantAlias, dropQdrantCollection, ensureQdrantAliases } from './alias';
export { probeVector } from './probes';
export { POINTS_FORMAT, POINTS_FORMAT_VERSION } from './points-format';
export * from './errors';
export * from './types';
export { backupQdrant, restoreQdrant } from './dispatch';
