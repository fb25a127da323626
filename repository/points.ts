import { randomBytes } from 'node:crypto';
import { checkRefMatches, loadArtifactIndex } from './artifact-index';
import { collect, forEachLimit } from '../lib/async';
import type { RepoContext } from './context';
import { openJson, sealJson } from './envelope';
import {
  AmbiguousRecoveryPointIdError,
  ArtifactPrunedError,
  CorruptObjectError,
  UnsupportedVersionError,
  InvalidArgumentError,
  LegalHoldError,
  MissingObjectError,
  ObjectLockedError,
  RecoveryPointNotFoundError,
} from './errors';
import {
  LOCK_KINDS,
  OBJECT_TYPES,
  PATHS,
  POINT_ID_RE,
  artifactObject,
  holdObject,
  pointObject,
  type HoldDoc,
  type ManifestDoc,
} from './format';
import type { CommitInput, ForgetResult, RecoveryPoint } from './types';
import { validateLabels, validateRef, validateTags, validateText } from './validate';

/** The time a point id starts with (`YYYYMMDDTHHMMSSZ-…`), as ISO 8601: all that is known of a damaged point. */
function timeOfId(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z` : new Date(0).toISOString();
}

/** `YYYYMMDDTHHMMSSZ-xxxxxxxx` for `time` (UTC). */
export function newPointId(time: Date): string {
  const iso = time.toISOString(); // 2026-11-23T12:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z-${randomBytes(4).toString('hex')}`;
}

/**
 * Recovery points: immutable manifests under points/, plus mutable legal
 * holds under holds/. Manifests never change once written, so decrypted ones
 * are cached.
 */
export class Points {
  private readonly cache = new Map<string, ManifestDoc>();

  constructor(private readonly ctx: RepoContext) {}

  async ids(): Promise<string[]> {
    return (await collect(this.ctx.backend.listKeys(PATHS.points)))
      .map((k) => k.slice(PATHS.points.length))
      .filter((id) => POINT_ID_RE.test(id));
  }

  /** Exact id or unique prefix -> id. */
  async resolve(idOrPrefix: string): Promise<string> {
    if (typeof idOrPrefix !== 'string' || !/^[0-9A-Za-z-]{1,64}$/.test(idOrPrefix)) {
      throw new InvalidArgumentError(
        'recovery point id',
        `${JSON.stringify(idOrPrefix)} is not an id like 20261123T120000Z-3f9a1c2b (or a prefix of one)`,
      );
    }
    const ids = await this.ids();
    if (ids.includes(idOrPrefix)) return idOrPrefix;
    const matches = ids.filter((id) => id.startsWith(idOrPrefix)).sort();
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new AmbiguousRecoveryPointIdError(idOrPrefix, matches);
    throw new RecoveryPointNotFoundError(idOrPrefix);
  }

  async manifest(id: string): Promise<ManifestDoc> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const name = pointObject(id);
    let blob: Buffer;
    try {
      blob = await this.ctx.backend.get(name);
    } catch (e) {
      if (e instanceof MissingObjectError) throw new RecoveryPointNotFoundError(id);
      throw e;
    }
    const doc = await openJson<ManifestDoc>(this.ctx.keys, OBJECT_TYPES.manifest, name, blob, 'recovery-point');
    this.cache.set(id, doc);
    return doc;
  }

  async holdOf(id: string): Promise<HoldDoc | undefined> {
    const name = holdObject(id);
    try {
      return await openJson<HoldDoc>(this.ctx.keys, OBJECT_TYPES.hold, name, await this.ctx.backend.get(name), 'hold');
    } catch (e) {
      if (e instanceof MissingObjectError) return undefined;
      throw e;
    }
  }

  private toPoint(doc: ManifestDoc, hold: HoldDoc | undefined): RecoveryPoint {
    const rp: RecoveryPoint = {
      id: doc.id,
      time: doc.time,
      host: doc.host,
      tags: [...doc.tags],
      labels: { ...doc.labels },
      artifacts: doc.artifacts.map((a) => ({
        ...a,
        metadata: a.metadata === undefined ? undefined : structuredClone(a.metadata),
      })),
    };
    if (doc.parent !== undefined) rp.parent = doc.parent;
    for (const a of rp.artifacts) if (a.metadata === undefined) delete a.metadata;
    if (hold) rp.hold = { reason: hold.reason, time: hold.time };
    return rp;
  }

  async get(idOrPrefix: string): Promise<RecoveryPoint> {
    const id = await this.resolve(idOrPrefix);
    const [doc, hold] = await Promise.all([this.manifest(id), this.holdOf(id)]);
    return this.toPoint(doc, hold);
  }

  /** Newest first. A manifest that fails authentication is listed with `damaged` naming it (see RecoveryPoint). */
  async list(): Promise<RecoveryPoint[]> {
    const ids = await this.ids();
    const held = new Set(
      (await collect(this.ctx.backend.listKeys(PATHS.holds))).map((k) => k.slice(PATHS.holds.length)),
    );
    const out: RecoveryPoint[] = [];
    await forEachLimit(ids, 8, async (id) => {
      try {
        const [doc, hold] = await Promise.all([this.manifest(id), held.has(id) ? this.holdOf(id) : undefined]);
        out.push(this.toPoint(doc, hold));
      } catch (e) {
        // One damaged manifest must not hide every other point: it is listed as damaged, by name.
        if (!(e instanceof CorruptObjectError || e instanceof UnsupportedVersionError)) throw e;
        out.push({ id, time: timeOfId(id), host: '', tags: [], labels: {}, artifacts: [], damaged: e.message });
      }
    });
    return out.sort((a, b) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1));
  }

  /**
   * Commits a recovery point. Under a commit lock (so a concurrent prune
   * either sees this lock and waits, or this commit sees the prune's condemned
   * list), each artifact index is checked to exist and to match its
   * reference; then the manifest is written in one atomic put.
   */
  async commit(input: CommitInput): Promise<RecoveryPoint> {
    if (!input || typeof input !== 'object')
      throw new InvalidArgumentError('commit input', 'must be an object { artifacts, tags?, ... }');
    if (!Array.isArray(input.artifacts))
      throw new InvalidArgumentError('artifacts', 'must be an array of artifact references');
    input.artifacts.forEach((a, i) => validateRef(a, `artifacts[${i}]`));
    const dup = input.artifacts.map((a) => a.indexId).find((id, i, all) => all.indexOf(id) !== i);
    if (dup) throw new InvalidArgumentError('artifacts', `artifact ${dup} is listed twice`);
    const tags = validateTags(input.tags);
    const labels = validateLabels(input.labels);
    const host = input.host ?? this.ctx.opts.host;
    validateText(host, 'host', { max: 256 });
    if (input.parent !== undefined && (typeof input.parent !== 'string' || !POINT_ID_RE.test(input.parent)))
      throw new InvalidArgumentError('parent', `must be a recovery point id, got ${JSON.stringify(input.parent)}`);
    const time = input.time ?? new Date();
    if (!(time instanceof Date) || Number.isNaN(time.getTime()))
      throw new InvalidArgumentError('time', 'must be a valid Date');

    const lock = await this.ctx.locks.startWriter(LOCK_KINDS.commit);
    try {
      // Declared before adopting prunes again: a prune that condemned one of these conflicts instead.
      for (const a of input.artifacts) lock.used.add(artifactObject(a.indexId));
      await lock.refresh();
      for (const a of input.artifacts) {
        const by = lock.excluded.get(artifactObject(a.indexId)) ?? lock.conflicts.get(artifactObject(a.indexId));
        if (by) throw new ArtifactPrunedError(a.indexId, by);
      }
      await forEachLimit(input.artifacts, 8, async (a) =>
        checkRefMatches(a, await loadArtifactIndex(this.ctx, a.indexId)),
      );
      lock.check();
      for (let attempt = 0; ; attempt++) {
        const id = newPointId(time);
        const doc: ManifestDoc = {
          v: 1,
          type: 'recovery-point',
          id,
          time: time.toISOString(),
          host,
          tags,
          ...(input.parent !== undefined ? { parent: input.parent } : {}),
          labels,
          artifacts: input.artifacts.map((a) => ({
            source: a.source,
            kind: a.kind,
            name: a.name,
            size: a.size,
            sha256: a.sha256,
            indexId: a.indexId,
            chunks: a.chunks,
            ...(a.metadata !== undefined ? { metadata: structuredClone(a.metadata) } : {}),
          })),
        };
        const name = pointObject(id);
        if (
          await this.ctx.backend.put(name, await sealJson(this.ctx.keys, OBJECT_TYPES.manifest, name, doc), {
            ifAbsent: true,
          })
        ) {
          await this.ctx.backend.flush();
          this.cache.set(id, doc);
          return this.toPoint(doc, undefined);
        }
        if (attempt > 5)
          throw new InvalidArgumentError('time', `could not find a free recovery point id for ${time.toISOString()}`);
      }
    } finally {
      await lock.release();
    }
  }

  async forget(idOrPrefix: string): Promise<ForgetResult> {
    const id = await this.resolve(idOrPrefix);
    const hold = await this.holdOf(id);
    if (hold) throw new LegalHoldError(id, hold.reason, hold.time);
    try {
      await this.ctx.backend.delete(pointObject(id));
    } catch (e) {
      // Under S3 Object Lock the manifest stays (and the point with it, listed and restorable) until its retention ends.
      if (e instanceof ObjectLockedError) return { id, forgotten: false, lockedUntil: e.until };
      throw e;
    }
    this.cache.delete(id);
    return { id, forgotten: true };
  }

  async hold(idOrPrefix: string, reason: string): Promise<void> {
    validateText(reason, 'hold reason');
    const id = await this.resolve(idOrPrefix);
    const name = holdObject(id);
    const doc: HoldDoc = { v: 1, type: 'hold', id, reason, time: new Date().toISOString() };
    await this.ctx.backend.put(name, await sealJson(this.ctx.keys, OBJECT_TYPES.hold, name, doc));
    await this.ctx.backend.flush();
  }

  async unhold(idOrPrefix: string): Promise<void> {
    const id = await this.resolve(idOrPrefix);
    await this.ctx.backend.delete(holdObject(id));
  }
}
