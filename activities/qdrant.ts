import { resolveSecret, type QdrantSourceConfig } from '../config';
import {
  backupQdrant,
  dropQdrantCollection,
  preflightQdrantRestore,
  qdrantCollectionExists,
  restoreQdrant,
  switchQdrantAlias,
  verifyQdrantRestore,
  type QdrantBackupInfo,
  type QdrantConnection,
  type QdrantRestoreResult,
} from '../sources/qdrant';
import { LifeboatError } from '../lib/errors';
import type { RestoreTargetOverride } from '../lib/domain';
import { isRecord, isString, storeStream, type StoreBackup, type StoreContext, type StoreHandler } from './store';

/** Per restored collection: where it went, whether it was new, and the alias move (for the rollback). */
export type QdrantRestoreCheck = {
  collections: {
    collection: string;
    created: boolean;
    alias: { name: string; previousCollection: string | null } | null;
  }[];
};

function readQdrantCheck(raw: unknown): QdrantRestoreCheck | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.collections)) return undefined;
  const collections: QdrantRestoreCheck['collections'] = [];
  const list: unknown[] = raw.collections;
  for (const c of list) {
    if (!isRecord(c) || !isString(c.collection) || typeof c.created !== 'boolean') return undefined;
    const a = c.alias;
    let alias: QdrantRestoreCheck['collections'][number]['alias'] = null;
    if (a !== null && a !== undefined) {
      if (!isRecord(a) || !isString(a.name) || !(a.previousCollection === null || isString(a.previousCollection)))
        return undefined;
      alias = { name: a.name, previousCollection: a.previousCollection };
    }
    collections.push({ collection: c.collection, created: c.created, alias });
  }
  return { collections };
}
import type { ArtifactHandle } from './types';

async function connection(s: QdrantSourceConfig): Promise<QdrantConnection> {
  return { url: s.url, apiKey: s.apiKey ? await resolveSecret(s.apiKey) : undefined };
}

const infoOf = (a: ArtifactHandle) => a.metadata?.qdrant as QdrantBackupInfo;

/**
 * Where each backed-up collection goes. With an alias configured, a restore
 * writes a new collection and switches the alias to it, so readers never see
 * a half-restored collection and the old one stays until confirmed.
 */
function targetCollection(
  s: QdrantSourceConfig,
  o: RestoreTargetOverride | undefined,
  backedUp: string,
  restoreId: string,
): string {
  if (o?.collection) return o.collection;
  if (s.alias) return `${backedUp}-restore-${restoreId}`;
  return backedUp;
}

function checkOverride(o: RestoreTargetOverride | undefined, artifacts: ArtifactHandle[]): string | undefined {
  if (o?.collection && artifacts.length > 1)
    return `--to-collection names one collection but the backup holds ${artifacts.length} (${artifacts.map((a) => a.name).join(', ')})`;
  return undefined;
}

async function backupCollections(
  s: QdrantSourceConfig,
  collections: readonly string[],
  ctx: StoreContext,
): Promise<StoreBackup> {
  const conn = await connection(s);
  const artifacts: ArtifactHandle[] = [];
  for (const c of collections) {
    const b = await backupQdrant(conn, c, s.mode, { signal: ctx.hb.signal, onProgress: ctx.hb.onProgress });
    artifacts.push(
      await storeStream(ctx, { source: s.name, kind: `qdrant-${s.mode}`, name: c }, b, (info) => ({ qdrant: info }), {
        // Points mode streams groups of point lines: each deduplicated on its own (sources/qdrant/points-backup.ts).
        chunking: s.mode === 'points' ? 'records' : 'content',
      }),
    );
  }
  return { artifacts, items: artifacts.reduce((n, a) => n + (infoOf(a).meta.pointsCount ?? 0), 0) };
}

/** Qdrant collections, as native snapshots or portable point exports. */
export const qdrantHandler: StoreHandler<QdrantSourceConfig, QdrantRestoreCheck> = {
  type: 'qdrant',
  defaultRestoreOrder: 20,

  readCheck: readQdrantCheck,

  describeTarget(s, o) {
    const names = o?.collection ? [o.collection] : s.alias ? [`alias ${s.alias}`] : s.collections;
    return `${s.url} ${names.join(', ')}`;
  },

  backup: (s, ctx) => backupCollections(s, s.collections, ctx),

  async preflight(s, o, artifacts) {
    const bad = checkOverride(o, artifacts);
    if (bad) return [bad];
    const conn = await connection(s);
    const problems: string[] = [];
    for (const a of artifacts) {
      const r = await preflightQdrantRestore(conn, {
        info: infoOf(a),
        collection: targetCollection(s, o, a.name, 'preflight'),
        ifExists: 'replace',
      });
      problems.push(...r.problems.map((p) => p.message));
    }
    return problems;
  },

  async safetyBackup(s, o, ctx) {
    // With an alias the old collection is left untouched (the alias moves), so there is nothing to save.
    if (s.alias && !o?.collection) return { artifacts: [], items: 0 };
    const conn = await connection(s);
    const targets = o?.collection ? [o.collection] : s.collections;
    const existing: string[] = [];
    for (const c of targets) if (await qdrantCollectionExists(conn, c)) existing.push(c);
    return backupCollections(s, existing, ctx);
  },

  async restore(s, o, artifacts, restoreId, ctx) {
    const conn = await connection(s);
    const results: QdrantRestoreResult[] = [];
    for (const a of artifacts) {
      const collection = targetCollection(s, o, a.name, restoreId);
      const alias = s.alias && !o?.collection ? s.alias : undefined;
      results.push(
        await restoreQdrant(conn, ctx.repo.readArtifact(a, { signal: ctx.hb.signal }) as never, {
          info: infoOf(a),
          collection,
          alias,
          ifExists: 'replace',
          signal: ctx.hb.signal,
          onProgress: ctx.hb.onProgress,
        }),
      );
    }
    return {
      items: results.reduce((n, r) => n + r.points, 0),
      bytes: results.reduce((n, r) => n + r.bytes, 0),
      check: {
        collections: results.map((r) => ({
          collection: r.collection,
          created: r.createdCollection,
          alias: r.alias ?? null,
        })),
      },
    };
  },

  async verify(s, o, artifacts, check) {
    const conn = await connection(s);
    const restored = check?.collections ?? [];
    const problems: string[] = [];
    let points = 0;
    for (const [i, a] of artifacts.entries()) {
      const collection = restored[i]?.collection ?? targetCollection(s, o, a.name, '');
      const report = await verifyQdrantRestore(conn, collection, infoOf(a), { throwOnMismatch: false });
      problems.push(...report.problems.map((p) => `${collection}: ${p}`));
      points += report.count.actual;
    }
    return problems.length
      ? { ok: false, detail: problems.join('; ') }
      : {
          ok: true,
          detail: `${points} points in ${artifacts.length} collection(s): counts, digests and probe queries match`,
        };
  },

  async confirm() {
    // The collection an alias pointed at before is kept: dropping data is the operator's call.
  },

  async compensate(s, o, artifacts, restoreId, safety, check, ctx) {
    const conn = await connection(s);
    const restored = check?.collections ?? [];
    for (const [i, a] of artifacts.entries()) {
      const collection = restored[i]?.collection ?? targetCollection(s, o, a.name, restoreId);
      const aliasMove = restored[i]?.alias;
      if (s.alias && !o?.collection) {
        // Alias mode: move the alias back, then drop the new collection.
        if (aliasMove?.previousCollection) await switchQdrantAlias(conn, aliasMove.name, aliasMove.previousCollection);
        await dropQdrantCollection(conn, collection);
        continue;
      }
      const saved = safety?.find((x) => x.name === collection);
      if (saved) {
        await restoreQdrant(conn, ctx.repo.readArtifact(saved, { signal: ctx.hb.signal }) as never, {
          info: infoOf(saved),
          collection,
          ifExists: 'replace',
          signal: ctx.hb.signal,
        });
      } else if (safety) {
        // Not in the safety point: the collection did not exist before the restore.
        await dropQdrantCollection(conn, collection);
      } else {
        throw new LifeboatError(
          `no safety backup was taken of Qdrant collection ${collection}, so it cannot be rolled back`,
          'NO_SAFETY_BACKUP',
        );
      }
    }
  },
};
