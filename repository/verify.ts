import { isPackRun, loadArtifactIndex } from './artifact-index';
import { openPack } from './packs';
import { forEachLimit } from '../lib/async';
import type { RepoContext } from './context';
import { openChunk } from './envelope';
import {
  ArtifactNotFoundError,
  ArtifactRefMismatchError,
  BackendError,
  CorruptObjectError,
  InvalidArgumentError,
  MissingObjectError,
  OperationAbortedError,
  UnsupportedVersionError,
} from './errors';
import {
  OBJECT_OVERHEAD,
  PATHS,
  artifactObject,
  chunkIdOf,
  chunkObject,
  packIdOf,
  packIndexIdOf,
  packIndexObject,
  packObject,
  pointObject,
  type ArtifactIndexDoc,
  type ManifestDoc,
} from './format';
import type { Points } from './points';
import {
  VERIFY_PROBLEM_KINDS as K,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyReport,
} from './types';

function kindOf(e: unknown): VerifyProblemKind {
  if (e instanceof MissingObjectError || e instanceof ArtifactNotFoundError) return K.missing;
  if (e instanceof CorruptObjectError || e instanceof UnsupportedVersionError) return K.corrupt;
  if (e instanceof ArtifactRefMismatchError) return K.mismatch;
  return K.unreadable;
}

/**
 * Structure: every manifest opens, every artifact index it names exists,
 * opens and matches its reference, every chunk an index lists exists (and is
 * at least an envelope long). readData: chunks (all, or a random subset) are
 * downloaded, authenticated, decrypted, decompressed and re-hashed. Each
 * problem names its object and the recovery points that depend on it.
 */
export async function verifyRepository(
  ctx: RepoContext,
  points: Points,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const started = Date.now();
  const readData = opts.readData === true || (opts.readData === undefined && opts.subsetPercent !== undefined);
  const subsetPercent = opts.subsetPercent ?? 100;
  if (typeof subsetPercent !== 'number' || !(subsetPercent > 0 && subsetPercent <= 100))
    throw new InvalidArgumentError(
      'subsetPercent',
      `must be a number with 0 < x <= 100, got ${JSON.stringify(opts.subsetPercent)}`,
    );
  const { signal, onProgress } = opts;
  const abortIfNeeded = () => {
    if (signal?.aborted) throw new OperationAbortedError('verify', signal.reason);
  };
  const problems: VerifyProblem[] = [];
  const problem = (object: string, kind: VerifyProblemKind, message: string, recoveryPoints: Iterable<string>) =>
    problems.push({ object, kind, message, recoveryPoints: [...new Set(recoveryPoints)].sort() });
  let checkedObjects = 0;
  let bytesRead = 0;
  const progress = () => onProgress?.({ objects: checkedObjects, bytes: bytesRead });

  const ids = opts.recoveryPointId !== undefined ? [await points.resolve(opts.recoveryPointId)] : await points.ids();
  const manifests: ManifestDoc[] = [];
  await forEachLimit(ids, 8, async (id) => {
    abortIfNeeded();
    try {
      manifests.push(await points.manifest(id));
    } catch (e) {
      problem(pointObject(id), kindOf(e), (e as Error).message, [id]);
    }
    checkedObjects++;
  });
  progress();

  // indexId -> points using it; chunk id -> { plain size, points }
  const indexUsers = new Map<string, { ref: ManifestDoc['artifacts'][number]; points: Set<string> }[]>();
  for (const m of manifests) {
    for (const a of m.artifacts) {
      const users = indexUsers.get(a.indexId) ?? [];
      const same = users.find((u) => u.ref.sha256 === a.sha256 && u.ref.size === a.size && u.ref.chunks === a.chunks);
      if (same) same.points.add(m.id);
      else users.push({ ref: a, points: new Set([m.id]) });
      indexUsers.set(a.indexId, users);
    }
  }
  const chunks = new Map<string, { size: number; points: Set<string> }>();
  /** Pack id -> the runs artifacts read from it ([first blob, count, bytes]) and the points that need it. */
  const packs = new Map<string, { runs: [number, number, number][]; points: Set<string> }>();
  let artifacts = 0;
  await forEachLimit(indexUsers.entries(), 8, async ([indexId, users]) => {
    abortIfNeeded();
    artifacts++;
    const pointsOf = users.flatMap((u) => [...u.points]);
    let doc: ArtifactIndexDoc;
    try {
      doc = await loadArtifactIndex(ctx, indexId);
    } catch (e) {
      problem(artifactObject(indexId), kindOf(e), (e as Error).message, pointsOf);
      return;
    } finally {
      checkedObjects++;
    }
    for (const u of users) {
      const r = u.ref;
      const bad = [
        ['size', doc.size, r.size],
        ['sha256', doc.sha256, r.sha256],
        ['chunks', doc.chunks.length, r.chunks],
      ].filter(([, x, y]) => x !== y);
      if (bad.length) {
        problem(
          artifactObject(indexId),
          K.mismatch,
          `index says ${bad.map(([f, x]) => `${f}=${x}`).join(', ')} but the manifest says ${bad.map(([f, , y]) => `${f}=${y}`).join(', ')}`,
          u.points,
        );
      }
    }
    for (const e of doc.chunks) {
      if (isPackRun(e)) {
        const id = doc.packs![e[0]];
        const pk = packs.get(id) ?? { runs: [], points: new Set<string>() };
        pk.runs.push([e[1], e[2], e[3]]);
        for (const p of pointsOf) pk.points.add(p);
        packs.set(id, pk);
        continue;
      }
      const [id, size] = e;
      const c = chunks.get(id);
      if (c) for (const p of pointsOf) c.points.add(p);
      else chunks.set(id, { size, points: new Set(pointsOf) });
    }
  });
  progress();

  // Existence (and minimal size) of every referenced chunk and pack, from one listing.
  const stored = new Map<string, number>();
  if (chunks.size || packs.size)
    for await (const o of ctx.backend.list(PATHS.data)) {
      const id = chunkIdOf(o.key);
      if (id && chunks.has(id)) stored.set(id, o.size);
      else if (packs.has(packIdOf(o.key) ?? packIndexIdOf(o.key) ?? '')) stored.set(o.key, o.size);
    }
  const presentPacks: string[] = [];
  for (const [id, pk] of packs) {
    let whole = true;
    for (const name of [packObject(id), packIndexObject(id)]) {
      checkedObjects++;
      const size = stored.get(name);
      if (size === undefined) problem(name, K.missing, `${name} is missing`, pk.points);
      else if (size < OBJECT_OVERHEAD)
        problem(name, K.corrupt, `${name} is ${size} bytes, shorter than an envelope (truncated)`, pk.points);
      else continue;
      whole = false;
    }
    if (whole) presentPacks.push(id);
  }
  const present: string[] = [];
  for (const [id, c] of chunks) {
    checkedObjects++;
    const size = stored.get(id);
    if (size === undefined) problem(chunkObject(id), K.missing, `chunk ${chunkObject(id)} is missing`, c.points);
    else if (size < OBJECT_OVERHEAD)
      problem(
        chunkObject(id),
        K.corrupt,
        `chunk ${chunkObject(id)} is ${size} bytes, shorter than an envelope (truncated)`,
        c.points,
      );
    else present.push(id);
  }
  progress();

  let chunksRead = 0;
  if (readData) {
    const picked = subsetPercent >= 100 ? present : present.filter(() => Math.random() * 100 < subsetPercent);
    // At least one chunk when a subset is asked of a non-empty repository.
    if (!picked.length && present.length) picked.push(present[Math.floor(Math.random() * present.length)]);
    await forEachLimit(picked, ctx.opts.readConcurrency, async (id) => {
      abortIfNeeded();
      const name = chunkObject(id);
      const c = chunks.get(id)!;
      try {
        const blob = await ctx.backend.get(name);
        bytesRead += blob.length;
        const plain = await openChunk(ctx.keys, name, id, blob);
        if (plain.length !== c.size)
          problem(
            name,
            K.mismatch,
            `chunk ${name} holds ${plain.length} bytes where its index says ${c.size}`,
            c.points,
          );
      } catch (e) {
        if (e instanceof BackendError && !(e instanceof MissingObjectError))
          problem(name, K.unreadable, (e as Error).message, c.points);
        else problem(name, kindOf(e), (e as Error).message, c.points);
      }
      chunksRead++;
      checkedObjects++;
      if (chunksRead % 16 === 0) progress();
    });
  }
  if (readData && presentPacks.length) {
    const picked = subsetPercent >= 100 ? presentPacks : presentPacks.filter(() => Math.random() * 100 < subsetPercent);
    if (!picked.length) picked.push(presentPacks[Math.floor(Math.random() * presentPacks.length)]);
    await forEachLimit(picked, ctx.opts.readConcurrency, async (id) => {
      abortIfNeeded();
      const pk = packs.get(id)!;
      const name = packObject(id);
      try {
        // Opening checks every blob against the pack index; then every run an artifact reads must lie in it.
        const { plain, index } = await openPack(ctx, id, true);
        bytesRead += plain.length;
        for (const [first, count, bytes] of pk.runs) {
          const last = index.blobs[first + count - 1];
          const got = last ? last[1] + last[2] - index.blobs[first][1] : -1;
          if (got !== bytes) {
            problem(
              packIndexObject(id),
              K.mismatch,
              `pack ${id} does not hold blobs ${first}-${first + count - 1} of ${bytes} bytes that an artifact index names`,
              pk.points,
            );
            break;
          }
        }
      } catch (e) {
        const object = (e as { object?: string }).object ?? name;
        if (e instanceof BackendError && !(e instanceof MissingObjectError))
          problem(object, K.unreadable, (e as Error).message, pk.points);
        else problem(object, kindOf(e), (e as Error).message, pk.points);
      }
      chunksRead++;
      checkedObjects++;
      if (chunksRead % 16 === 0) progress();
    });
  }
  abortIfNeeded();
  progress();
  problems.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
  return {
    ok: problems.length === 0,
    readData,
    subsetPercent: readData ? subsetPercent : 0,
    recoveryPoints: ids.length,
    artifacts,
    chunks: chunks.size + packs.size,
    checkedObjects,
    chunksRead,
    bytesRead,
    problems,
    durationMs: Date.now() - started,
  };
}
