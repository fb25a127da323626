import type { Backend } from './backend/types';
import type { MasterKeys } from './envelope';
import type { ConfigDoc } from './format';
import type { LockManager } from './locks';

/** Tunables resolved from OpenOptions. */
export interface ResolvedOptions {
  lockRefreshMs: number;
  lockStaleMs: number;
  writeConcurrency: number;
  readConcurrency: number;
  host: string;
}

/** What the operations of an opened repository share. */
export interface RepoContext {
  readonly backend: Backend;
  readonly keys: MasterKeys;
  readonly config: ConfigDoc;
  readonly gear: Uint32Array;
  readonly opts: ResolvedOptions;
  readonly locks: LockManager;
}
