import type { StreamOptions } from '../types';
import { QdrantApi } from './api';
import { canonicalJson } from './canonical';
import { targetVectors } from './collection-meta';
import { QdrantCollectionNotFoundError, QdrantVerificationError } from './errors';
import { digestCollection } from './fingerprint';
import { probeMatches, runProbe } from './probes';
import { defaultPageSize } from './scroll';
import type { QdrantBackupInfo, QdrantConnection, QdrantVerifyReport } from './types';

export interface QdrantVerifyOptions extends StreamOptions {
  /**
   * Throw QdrantVerificationError when anything differs (the report is still computed first).
   * @default true
   */
  throwOnMismatch?: boolean;
  /** Points per scroll page. @default about 2 MB of vectors per page */
  pageSize?: number;
}

/**
 * Recomputes the restored collection's fingerprint (count + digest over every
 * id, vector and payload) and re-runs the probe queries, and compares them
 * with what the backup recorded. Equal means the same points, not just as many.
 */
export async function verifyQdrantRestore(
  conn: QdrantConnection,
  collection: string,
  info: QdrantBackupInfo,
  opts: QdrantVerifyOptions = {},
): Promise<QdrantVerifyReport> {
  const api = new QdrantApi(conn);
  const key = info.meta.collection;
  const actualVectors = await targetVectors(api, collection);
  if (!actualVectors) throw new QdrantCollectionNotFoundError(api.url, collection);
  const { count, digest } = await digestCollection(api, collection, {
    pageSize: opts.pageSize ?? defaultPageSize(actualVectors),
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  const report: QdrantVerifyReport = {
    ok: true,
    collection,
    count: { expected: info.fingerprint.counts[key], actual: count },
    digest: { expected: info.fingerprint.digests[key], actual: digest },
    vectors: { expected: info.meta.vectors, actual: actualVectors },
    probes: { checked: 0, mismatched: [] },
    problems: [],
  };
  if (canonicalJson(actualVectors) !== canonicalJson(info.meta.vectors)) {
    report.problems.push(
      `vectors are ${canonicalJson(actualVectors)}, the backup had ${canonicalJson(info.meta.vectors)}`,
    );
  }
  if (report.count.expected !== count) report.problems.push(`${count} points, the backup had ${report.count.expected}`);
  if (report.digest.expected !== digest) {
    const hint = info.quiescent
      ? ''
      : ' (the collection was being written while the snapshot was taken, so the recorded fingerprint may not match the snapshot)';
    report.problems.push(
      `point digest ${digest} differs from the backup's ${report.digest.expected}: ids, vectors or payloads differ${hint}`,
    );
  }
  for (const p of info.probes) {
    const spec = info.meta.vectors[p.using];
    if (!spec || !actualVectors[p.using]) continue;
    opts.signal?.throwIfAborted();
    const got = await runProbe(api, collection, p.using, p.seed, spec.size, p.topK);
    report.probes.checked++;
    if (!probeMatches(p, got))
      report.probes.mismatched.push({ using: p.using, seed: p.seed, expected: p.ids, actual: got.ids });
  }
  if (report.probes.mismatched.length)
    report.problems.push(
      `${report.probes.mismatched.length} of ${report.probes.checked} probe queries return other results`,
    );
  report.ok = report.problems.length === 0;
  if (!report.ok && (opts.throwOnMismatch ?? true))
    throw Object.assign(new QdrantVerificationError(collection, report.problems), { report });
  return report;
}
