import { LifeboatError } from './errors';

/**
 * Globs of relative paths, as FAISS directory sources use them for
 * include/exclude (config validates them with globProblem).
 *
 * Checks a glob of a FAISS directory source and returns its problem, if any:
 * relative, "/"-separated, no "..", no brace or bracket sets (not supported).
 */
export function globProblem(glob: string): string | undefined {
  if (glob === '') return 'is empty';
  if (glob.startsWith('/')) return 'must be relative to the source folder (no leading "/")';
  if (glob.includes('\\')) return 'must use "/" between folders';
  if (glob.split('/').includes('..')) return 'must not contain ".."';
  if (/[[\]{}]/.test(glob)) return 'uses [] or {}, which are not supported; use *, ** and ? only';
  return undefined;
}

/** `*` any characters within a name, `**` any number of folders, `?` one character within a name. */
export function globToRegExp(glob: string): RegExp {
  const problem = globProblem(glob);
  if (problem) throw new LifeboatError(`invalid glob ${JSON.stringify(glob)}: ${problem}`, 'FAISS_INVALID_ARGUMENT');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      // "**/" matches zero or more folders; a bare "**" anything.
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A predicate: does a relative path match any of `globs`? */
export function globMatcher(globs: readonly string[]): (relativePath: string) => boolean {
  const res = globs.map(globToRegExp);
  return (p) => res.some((r) => r.test(p));
}
