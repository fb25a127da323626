import { createWriteStream } from 'node:fs';
import { chmod, chown, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FaissSourceConfig } from '../config';
import { LIFEBOAT_FILE_MARK, SINGLE_FILE_KEY } from '../sources/faiss';
import type { StoreContext } from './store';
import type { ArtifactHandle } from './types';

/** The kind a FAISS safety backup gives its byte-for-byte copies (activities/faiss.ts opaqueSnapshot). */
export const FAISS_OPAQUE_KIND = 'faiss-opaque';

/**
 * Puts a FAISS target back from a safety backup's opaque byte copies (a DR rollback after the
 * restore was confirmed, so the kept previous file is gone). The regular FAISS restore refuses
 * these copies (they may hold a damaged file), but a rollback must put back exactly what was
 * there, damage included: each file is streamed into a temp file beside the target, given its
 * recorded mode (and owner, when the worker may), fsynced and renamed over the target. A retry
 * overwrites the same temp file, so it is idempotent.
 */
export async function putBackFaissBytes(
  s: FaissSourceConfig,
  artifacts: readonly ArtifactHandle[],
  rollbackId: string,
  ctx: StoreContext,
): Promise<void> {
  for (const a of artifacts) {
    const rel = String(a.metadata?.relativePath ?? SINGLE_FILE_KEY);
    const file = rel === SINGLE_FILE_KEY ? s.path : path.join(s.path, ...rel.split('/'));
    const mode = Number(a.metadata?.mode ?? 0o644);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}${LIFEBOAT_FILE_MARK}rollback-${rollbackId}`);
    await mkdir(path.dirname(file), { recursive: true });
    try {
      await pipeline(ctx.repo.readArtifact(a, { signal: ctx.hb.signal }), createWriteStream(tmp, { mode }));
      await chmod(tmp, mode);
      const { uid, gid } = a.metadata ?? {};
      // Only root can give a file to another user; the bytes and mode are what matter to the reader.
      if (typeof uid === 'number' && typeof gid === 'number') await chown(tmp, uid, gid).catch(() => undefined);
      const fh = await open(tmp, 'r');
      await fh.sync().finally(() => fh.close());
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const dir = await open(path.dirname(file), 'r');
    await dir.sync().finally(() => dir.close());
  }
}
