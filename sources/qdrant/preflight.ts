import type { LifeboatError } from '../../lib/errors';
import { QdrantApi } from './api';
import { targetVectors } from './collection-meta';
import {
  QdrantAliasConflictError,
  QdrantDimensionMismatchError,
  QdrantTargetExistsError,
  QdrantUnreachableError,
  QdrantUnsupportedError,
  QdrantVectorConfigMismatchError,
} from './errors';
import type {
  QdrantBackupInfo,
  QdrantConnection,
  QdrantIfExists,
  QdrantRestoreOptions,
  QdrantVectorSpec,
} from './types';

export interface QdrantPreflightResult {
  /** Empty when Qdrant could not be reached. */
  serverVersion: string;
  /** The collection a restore would write. */
  collection: string;
  targetExists: boolean;
  targetVectors?: Record<string, QdrantVectorSpec>;
  /** Why the restore cannot run (typed, not thrown); empty when it can. */
  problems: LifeboatError[];
}

export type QdrantPreflightOptions = Pick<
  QdrantRestoreOptions,
  'info' | 'collection' | 'alias' | 'ifExists' | 'allowVectorChange'
>;

const describe = (v: Record<string, QdrantVectorSpec>) =>
  Object.keys(v).length === 0
    ? '(none)'
    : Object.keys(v)
        .sort()
        .map((n) => `${n === '' ? '(unnamed)' : n}: ${v[n].size}/${v[n].distance}`)
        .join(', ');

/** Dimension differences first (the common mistake), then any other difference in names or distances. */
export function compareVectors(
  collection: string,
  backup: Record<string, QdrantVectorSpec>,
  target: Record<string, QdrantVectorSpec>,
): LifeboatError | undefined {
  for (const name of Object.keys(backup).sort()) {
    const t = target[name];
    if (t && t.size !== backup[name].size)
      return new QdrantDimensionMismatchError(collection, name, backup[name].size, t.size);
  }
  const same =
    Object.keys(backup).length === Object.keys(target).length &&
    Object.keys(backup).every(
      (n) => target[n] && target[n].distance === backup[n].distance && target[n].size === backup[n].size,
    );
  return same ? undefined : new QdrantVectorConfigMismatchError(collection, describe(backup), describe(target));
}

/** The checks a restore runs before touching anything; usable alone before planning a restore. */
export async function preflightQdrantRestore(
  conn: QdrantConnection,
  opts: QdrantPreflightOptions,
): Promise<QdrantPreflightResult> {
  const api = new QdrantApi(conn);
  const info: QdrantBackupInfo = opts.info;
  const collection = opts.collection ?? info.meta.collection;
  const ifExists: QdrantIfExists = opts.ifExists ?? 'replace';
  const result: QdrantPreflightResult = { serverVersion: '', collection, targetExists: false, problems: [] };
  try {
    result.serverVersion = await api.serverVersion();
  } catch (e) {
    if (e instanceof QdrantUnreachableError) {
      result.problems.push(e);
      return result;
    }
    throw e;
  }
  if (ifExists === 'merge' && info.mode === 'snapshot') {
    result.problems.push(
      new QdrantUnsupportedError(
        `ifExists 'merge' applies to points-mode backups only; a snapshot restore replaces the collection's points`,
      ),
    );
  }
  const vectors = await targetVectors(api, collection);
  if (vectors) {
    result.targetExists = true;
    result.targetVectors = vectors;
    if (ifExists === 'fail') result.problems.push(new QdrantTargetExistsError(collection));
    const mayChange = info.mode === 'points' && ifExists === 'replace' && opts.allowVectorChange;
    const mismatch = mayChange ? undefined : compareVectors(collection, info.meta.vectors, vectors);
    if (mismatch) result.problems.push(mismatch);
  }
  if (opts.alias !== undefined) {
    if (opts.alias === collection) result.problems.push(new QdrantAliasConflictError(opts.alias));
    else if ((await api.call('collection exists', (c) => c.collectionExists(opts.alias!))).exists) {
      // collectionExists is true for aliases too: only a real collection blocks the alias.
      const { aliases } = await api.call('list aliases', (c) => c.getAliases());
      if (!aliases.some((a) => a.alias_name === opts.alias))
        result.problems.push(new QdrantAliasConflictError(opts.alias));
    }
  }
  return result;
}

/** Throws the first preflight problem; returns the result when the restore can go ahead. */
export async function assertQdrantRestorable(
  conn: QdrantConnection,
  opts: QdrantPreflightOptions,
): Promise<QdrantPreflightResult> {
  const r = await preflightQdrantRestore(conn, opts);
  if (r.problems.length) throw r.problems[0];
  return r;
}

/** Whether a collection (or alias) exists; QdrantUnreachableError when the server does not answer. */
export async function qdrantCollectionExists(conn: QdrantConnection, collection: string): Promise<boolean> {
  return (await new QdrantApi(conn).call('collection exists', (c) => c.collectionExists(collection), collection))
    .exists;
}
