import { POINT_TAGS } from '../lib/domain';
import type { Repository } from '../repository';
import type { RepositoryStatsReport } from './types';

/**
 * `lifeboat stats`: one listing of the repository (sizes) and of its points (logical sizes).
 * The dedup ratio is the plain bytes the points hold over the chunk bytes stored, so it counts
 * compression and deduplication together, as restic's "stats --mode raw-data" ratio does.
 */
export async function computeStats(repo: Repository): Promise<RepositoryStatsReport> {
  const [stored, points] = await Promise.all([repo.stats(), repo.listRecoveryPoints()]);
  const bySource = new Map<string, RepositoryStatsReport['sources'][number]>();
  let logicalBytes = 0;
  let safetyPoints = 0;
  // Newest first, so the first point seen of a source is its newest and the last its oldest.
  for (const rp of points) {
    const size = rp.artifacts.reduce((n, a) => n + a.size, 0);
    logicalBytes += size;
    if (rp.tags.includes(POINT_TAGS.safety)) {
      safetyPoints++;
      continue;
    }
    for (const source of new Set(rp.artifacts.map((a) => a.source))) {
      let s = bySource.get(source);
      if (!s) {
        s = { source, recoveryPoints: 0, logicalBytes: 0, newest: { id: rp.id, time: rp.time } };
        bySource.set(source, s);
      }
      s.recoveryPoints++;
      s.logicalBytes += rp.artifacts.filter((a) => a.source === source).reduce((n, a) => n + a.size, 0);
      s.oldest = { id: rp.id, time: rp.time };
    }
  }
  return {
    repository: repo.url,
    ...stored,
    recoveryPoints: points.length,
    safetyPoints,
    logicalBytes,
    dedupRatio: stored.chunkBytes > 0 ? logicalBytes / stored.chunkBytes : 1,
    sources: [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source)),
  };
}
