import { dataObjectsOf, loadArtifactIndex } from './artifact-index';
import { forEachLimit } from '../lib/async';
import type { RepoContext } from './context';
import { PATHS, artifactObject, pointObject } from './format';
import type { Points } from './points';

/** What extendObjectLocks did. */
export interface LockExtension {
  /** Objects whose retention now ends at `until` or later. */
  objects: number;
  /** ISO 8601: about now + the configured retention. */
  until: string;
}

/**
 * S3 Object Lock retention is set once, at upload: a chunk a new point deduplicates against keeps the
 * retain-until of its first upload. This moves every object a live point needs (its manifest, artifact
 * indexes, chunks and packs, and the config) to now + retention, so each point is protected for the full
 * retention from the last run on. Idempotent; nothing to do without objectLock (returns 0).
 */
export async function extendObjectLocks(ctx: RepoContext, points: Points): Promise<LockExtension> {
  const extend = ctx.backend.extendRetention?.bind(ctx.backend);
  const until = new Date(Date.now() + (ctx.backend.objectLockRetentionMs ?? 0)).toISOString();
  if (!extend || !ctx.backend.objectLockRetentionMs) return { objects: 0, until };
  const objects = new Set<string>([PATHS.config]);
  await forEachLimit(await points.ids(), 8, async (id) => {
    objects.add(pointObject(id));
    for (const a of (await points.manifest(id)).artifacts) {
      objects.add(artifactObject(a.indexId));
      for (const o of dataObjectsOf(await loadArtifactIndex(ctx, a.indexId))) objects.add(o);
    }
  });
  let n = 0;
  await forEachLimit([...objects], 8, async (key) => {
    if (await extend(key)) n++;
  });
  return { objects: n, until };
}
