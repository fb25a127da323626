/**
 * FAISS source adapter: index files on the worker's disk.
 *
 * - backupFaiss / backupFaissFile / backupFaissDirectory: raw bytes streamed,
 *   header and layout checked, probe queries run in a child process.
 * - restoreFaiss: temp file beside the target, verified (size, sha256,
 *   header, layout, probes), atomically swapped in, previous file kept until
 *   confirmFaissRestore / rollbackFaissRestore.
 * - fingerprintFaiss, compareProbes: proof that a restore is exact.
 *
 * Lifeboat never loads an index file in its own process: faiss aborts the
 * process on some damaged files, so every load happens in probe-child.ts.
 */
export {
  backupFaiss,
  backupFaissFile,
  backupFaissDirectory,
  listFaissFiles,
  DEFAULT_EXTENSIONS,
  LIFEBOAT_FILE_MARK,
  type FaissBackup,
} from './backup';
export { restoreFaiss } from './restore';
export { confirmFaissRestore, rollbackFaissRestore } from './restore-finish';
export { listPendingFaissRestores } from './journal';
export { fingerprintFaiss, faissFingerprintFromBackup, SINGLE_FILE_KEY } from './fingerprint';
export { compareProbes, DEFAULT_PROBE_EPSILON } from './compare';
export { readFaissHeader, headerDifferences } from './header';
export { inspectFaissFile } from './structure';
export { runFaissProbes, PROBE_DEFAULTS } from './probe-runner';
export { probeQueryVectors } from './probe-queries';
export { FAISS_INDEX_TYPES } from './fourcc';
export * from './errors';
export * from './types';
