import path from 'node:path';
import { globProblem } from '../lib/glob';
import { absPath, at, type Checker, isAbsent } from './check';
import type { FilesSourceConfig, SourceConfig } from './types';

/** Keys of a `type: files` source (besides the common ones). */
export const FILES_KEYS = ['root', 'paths', 'exclude'] as const;

type Common = Pick<SourceConfig, 'name' | 'targets' | 'retention' | 'restoreOrder'>;
const GLOB_CHARS = /[*?]/;
const EXAMPLE = 'paths: ["/srv/app/.env", "/srv/app/docker-compose*.yml", "/etc/redis/redis.conf"]';

/**
 * A files source: `paths` are absolute paths or globs (`*`, `**`, `?`), each below `root`, stored
 * relative to it so a restore can put them below another folder. Every problem is reported.
 */
export function parseFiles(
  c: Checker,
  o: Record<string, unknown>,
  sp: string,
  common: Common,
): FilesSourceConfig | undefined {
  const before = c.problems.length;
  const root = isAbsent(o.root) ? '/' : absPath(c, o.root, at(sp, 'root'), '/srv/app');
  const include: string[] = [];
  const pp = at(sp, 'paths');
  const raw = typeof o.paths === 'string' ? [o.paths] : o.paths;
  if (isAbsent(o.paths)) c.add(pp, `is required for a files source; list the files to keep, e.g. ${EXAMPLE}`);
  else if (!Array.isArray(raw) || raw.length === 0)
    c.add(pp, `must be a non-empty list of absolute paths or globs, e.g. ${EXAMPLE}`);
  else
    raw.forEach((v: unknown, i) => {
      const p = typeof o.paths === 'string' ? pp : at(pp, i);
      if (typeof v !== 'string' || !v) return c.add(p, `must be an absolute path or glob string, e.g. /srv/app/.env`);
      if (!path.isAbsolute(v)) return c.add(p, `"${v}" is relative; give an absolute path, e.g. /srv/app/${v}`, v);
      const norm = GLOB_CHARS.test(v) ? v.replace(/\/+$/, '') : path.normalize(v).replace(/\/+$/, '') || '/';
      if (root === undefined) return;
      const rel = path.posix.relative(root, norm);
      if (rel.startsWith('..') || path.isAbsolute(rel))
        return c.add(p, `"${v}" is not below root ${root}; move it under root or set root to a folder holding it`, v);
      if (rel === '') return include.push('**');
      const problem = globProblem(rel);
      if (problem) return c.add(p, `${JSON.stringify(v)} ${problem}`, v);
      include.push(rel);
    });
  const exclude: string[] = [];
  const ep = at(sp, 'exclude');
  const ex = typeof o.exclude === 'string' ? [o.exclude] : o.exclude;
  if (!isAbsent(o.exclude) && !Array.isArray(ex))
    c.add(ep, 'must be a glob or a list of globs, e.g. ["**/*.bak", "/srv/app/tmp"]');
  else if (Array.isArray(ex))
    ex.forEach((v: unknown, i) => {
      const p = typeof o.exclude === 'string' ? ep : at(ep, i);
      if (typeof v !== 'string' || !v) return c.add(p, 'must be a glob string, e.g. "**/*.bak"');
      // Absolute excludes are taken relative to root, like paths; relative ones already are.
      let rel = v.replace(/\/+$/, '');
      if (path.isAbsolute(v) && root !== undefined) {
        rel = path.posix.relative(root, rel);
        if (rel.startsWith('..'))
          return c.add(p, `"${v}" is not below root ${root}, so it can exclude nothing; remove it`, v);
      }
      const problem = globProblem(rel);
      if (problem) return c.add(p, `${JSON.stringify(v)} ${problem}`, v);
      exclude.push(rel);
    });
  if (c.problems.length > before || root === undefined) return undefined;
  return { ...common, type: 'files', root, include: [...new Set(include)], exclude };
}
