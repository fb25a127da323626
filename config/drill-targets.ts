import path from 'node:path';
import type { SourceConfig } from './types';

/** A scratch target a drill is about to restore into (what a RestoreTargetOverride resolves to). */
export type DrillTargetSpec =
  | { type: 'redis'; url: string; db?: number }
  | { type: 'faiss'; path: string }
  | { type: 'qdrant'; url: string; collection: string };

/** host:port of a redis:// URL, with localhost and 127.0.0.1 told apart from nothing. */
function redisEndpoint(u: string): string | undefined {
  try {
    const x = new URL(u);
    const host =
      x.hostname === 'localhost' || x.hostname === '[::1]' || x.hostname === '::1' ? '127.0.0.1' : x.hostname;
    return `${host}:${x.port || '6379'}`;
  } catch {
    return undefined;
  }
}

const inside = (a: string, b: string) => {
  const r = path.relative(b, a);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
};

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * The production source a drill target would write into, or undefined when it
 * touches none. A drill must never write production data: this is checked when
 * the config is validated and again by the worker right before a drill restores.
 */
export function productionConflict(t: DrillTargetSpec, sources: readonly SourceConfig[]): string | undefined {
  for (const s of sources) {
    if (t.type === 'redis' && s.type === 'redis') {
      const where = redisEndpoint(t.url);
      const prod = [
        ...(s.url ? [redisEndpoint(s.url)] : []),
        ...(s.cluster ?? []).map((n) => redisEndpoint(`redis://${n.host}:${n.port}`)),
      ];
      if (!where || !prod.includes(where)) continue;
      // Same server: only a db the source does not use is safe.
      if (t.db === undefined || s.db === 'all' || s.cluster || s.db === t.db)
        return `is Redis source "${s.name}" (${where}${s.db === 'all' ? ', all dbs' : `/${s.db}`}); a drill would overwrite production data: use another instance or a db the source does not use (redisDb)`;
    }
    if (t.type === 'faiss' && s.type === 'faiss') {
      const a = path.resolve(t.path);
      const b = path.resolve(s.path);
      if (inside(a, b) || inside(b, a))
        return `overlaps FAISS source "${s.name}" (${s.path}); a drill would overwrite production index files: use a scratch folder outside it`;
    }
    if (t.type === 'qdrant' && s.type === 'qdrant' && sameUrl(t.url, s.url)) {
      if (s.collections.includes(t.collection) || s.alias === t.collection)
        return `is collection "${t.collection}" of Qdrant source "${s.name}"; a drill would overwrite production data`;
    }
  }
  return undefined;
}
