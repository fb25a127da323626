/**
 * Lifeboat's config: one YAML file, validated at the edge (every problem
 * reported at once), with presets for recovery targets and retention, and
 * secrets as references resolved only where they are used.
 */
export { loadConfig } from './load';
export { parseConfig, defaultScratchDir, TEMPORAL_DEFAULTS, BACKUP_DEFAULTS, WORKER_DEFAULTS } from './parse';
export { resolveSecret, readSecret, isSecretRef, type ResolvedSecret, type ResolveSecretOptions } from './secrets';
export { parseDuration, formatDuration } from './duration';
export { parseSize } from './size';
export { cronProblems } from './cron';
export { PRESETS, DEFAULT_RESTORE_ORDER, type Preset } from './presets';
export { sourceByName, selectSources } from './select';
export {
  ConfigError,
  SecretError,
  SECRET_FAILURES,
  InvalidDurationError,
  InvalidSizeError,
  UnknownSourceError,
  describeSecretRef,
  type SecretFailure,
} from './errors';
export * from './types';
export { productionConflict, type DrillTargetSpec } from './drill-targets';
