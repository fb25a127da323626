import { UnknownSourceError } from './errors';
import { closest } from './suggest';
import type { LifeboatConfig, SourceConfig } from './types';

/**
 * The source with this name.
 * @throws UnknownSourceError listing the configured names (and the closest one, for a typo).
 */
export function sourceByName(config: LifeboatConfig, name: string): SourceConfig {
  const s = config.sources.find((x) => x.name === name);
  if (s) return s;
  const known = config.sources.map((x) => x.name);
  const guess = closest(name, known);
  throw new UnknownSourceError([name], known, guess ? `; did you mean "${guess}"?` : '');
}

/**
 * The sources with these names, in the order asked and without repeats;
 * every configured source when `names` is absent or empty.
 * @throws UnknownSourceError naming every unknown name at once.
 */
export function selectSources(config: LifeboatConfig, names?: readonly string[]): SourceConfig[] {
  if (!names?.length) return [...config.sources];
  const known = config.sources.map((x) => x.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    const guesses = unknown.map((n) => [n, closest(n, known)] as const).filter(([, g]) => g);
    const hint = guesses.length ? `; did you mean ${guesses.map(([n, g]) => `"${g}" for "${n}"`).join(', ')}?` : '';
    throw new UnknownSourceError([...new Set(unknown)], known, hint);
  }
  return [...new Set(names)].map((n) => config.sources.find((x) => x.name === n)!);
}
