/**
 * The repository: deduplicated, compressed, encrypted, verifiable storage of
 * recovery points on a local disk or S3. Format: docs/repository-format.md.
 */
export { initRepository, openRepository } from './repository';
export type {
  ArtifactMeta,
  ArtifactRef,
  CommitInput,
  ForgetResult,
  InitOptions,
  ObjectLockOptions,
  OpenOptions,
  PruneOptions,
  PruneProgress,
  PruneReport,
  ReadOptions,
  RecoveryPoint,
  Repository,
  RepositoryLocation,
  RepositoryStats,
  S3Options,
  ScryptParams,
  VerifyOptions,
  VerifyProblem,
  VerifyProblemKind,
  VerifyProgress,
  VerifyReport,
  WriteOptions,
  WriteProgress,
  WriteResult,
} from './types';
export { VERIFY_PROBLEM_KINDS } from './types';
export { Records, RECORD_NAME_RE, type RecordEnvelope } from './records';
export {
  AuditLog,
  AUDIT_RECORD_KIND,
  AUDIT_GENESIS,
  auditEntryId,
  type AuditActor,
  type AuditEntry,
  type AuditEntryInput,
  type AuditOutcome,
  type AuditVerifyReport,
} from './audit';
export { KeyManager, type KeyInfo, type AddKeyOptions } from './key-manager';
export * from './errors';
export { FORMAT_VERSION } from './format';
