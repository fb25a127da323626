import path from 'node:path';
import type { LifeboatConfig, SourceType } from '../config/types';
import type { RestoreTargetOverride } from '../workflows/types';
import { UsageError } from './errors';
import type { RestoreOptions } from './types';

/**
 * Checks a --to-redis URL: redis:// or rediss://, and no credentials —
 * workflow inputs are stored in Temporal's history, so a password must come
 * from the source's config reference, never from the command line.
 */
export function checkRedisTargetUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--to-redis "${url}" is not a URL; write it like redis://10.0.0.7:6379`, '--to-redis');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UsageError(`--to-redis "${url}" must start with redis:// or rediss://`, '--to-redis');
  if (u.password || u.username) {
    throw new UsageError(
      `--to-redis must not contain a password or user name (it would be stored in the workflow history); write redis://${u.host}${u.pathname === '/' ? '' : u.pathname} — the password comes from the source's password: reference in the config`,
      '--to-redis',
    );
  }
  if (!u.hostname)
    throw new UsageError(`--to-redis "${url}" has no host; write it like redis://10.0.0.7:6379`, '--to-redis');
  if (u.pathname && u.pathname !== '/')
    throw new UsageError(`--to-redis "${url}" names a db in its path; use --to-redis-db N instead`, '--to-redis');
  return `${u.protocol}//${u.host}`;
}

/** Syntax checks of the --to-* options that need neither the config nor the repository. */
export function checkTargetFlags(opts: RestoreOptions): void {
  if (opts.toRedis !== undefined) checkRedisTargetUrl(opts.toRedis);
  if (opts.toRedisDb !== undefined && !(Number.isInteger(opts.toRedisDb) && opts.toRedisDb >= 0)) {
    throw new UsageError(
      `--to-redis-db ${opts.toRedisDb} is not a db number; use an integer from 0 (Redis has 16 dbs, 0-15, by default)`,
      '--to-redis-db',
    );
  }
  if (opts.toCollection !== undefined && !/^[A-Za-z0-9_.-]{1,255}$/.test(opts.toCollection)) {
    throw new UsageError(
      `--to-collection "${opts.toCollection}" is not a valid Qdrant collection name; use letters, digits, "_", "-" and "."`,
      '--to-collection',
    );
  }
  if (opts.toPath !== undefined && !path.isAbsolute(opts.toPath)) {
    throw new UsageError(
      `--to-path "${opts.toPath}" must be an absolute path (it is used on the worker's machine)`,
      '--to-path',
    );
  }
  if (opts.toDir !== undefined && !path.isAbsolute(opts.toDir)) {
    throw new UsageError(
      `--to-dir "${opts.toDir}" must be an absolute folder path (it is used on the worker's machine)`,
      '--to-dir',
    );
  }
  for (const [name, t] of Object.entries(opts.targets ?? {})) {
    if (t.redisUrl !== undefined) checkRedisTargetUrl(t.redisUrl);
    if (t.path !== undefined && !path.isAbsolute(t.path))
      throw new UsageError(`target path for ${name} "${t.path}" must be absolute`, 'targets');
  }
}

const FLAG_TYPES: {
  flag: string;
  type: SourceType;
  apply: (o: RestoreOptions) => RestoreTargetOverride | undefined;
}[] = [
  {
    flag: '--to-redis/--to-redis-db',
    type: 'redis',
    apply: (o) =>
      o.toRedis === undefined && o.toRedisDb === undefined
        ? undefined
        : {
            ...(o.toRedis !== undefined ? { redisUrl: checkRedisTargetUrl(o.toRedis) } : {}),
            ...(o.toRedisDb !== undefined ? { redisDb: o.toRedisDb } : {}),
          },
  },
  {
    flag: '--to-collection',
    type: 'qdrant',
    apply: (o) => (o.toCollection === undefined ? undefined : { collection: o.toCollection }),
  },
  { flag: '--to-path', type: 'faiss', apply: (o) => (o.toPath === undefined ? undefined : { path: o.toPath }) },
  { flag: '--to-dir', type: 'files', apply: (o) => (o.toDir === undefined ? undefined : { path: o.toDir }) },
];

/**
 * Turns the --to-* shortcuts into per-source overrides. Each shortcut applies
 * to the one selected source of its type; with none or several the user must
 * say which one with --source. With any override, every selected source must
 * have one: `--to-redis X` without `--source` never restores FAISS and Qdrant
 * in place behind the user's back (exit 2 instead).
 */
export function resolveRestoreTargets(
  config: LifeboatConfig,
  selected: readonly string[],
  opts: RestoreOptions,
): Record<string, RestoreTargetOverride> {
  checkTargetFlags(opts);
  const typeOf = (name: string) => config.sources.find((s) => s.name === name)?.type;
  const targets: Record<string, RestoreTargetOverride> = {};
  for (const [name, t] of Object.entries(opts.targets ?? {})) {
    if (!selected.includes(name))
      throw new UsageError(
        `a target is given for ${name}, which is not being restored (restoring: ${selected.join(', ')})`,
        'targets',
      );
    targets[name] = { ...t };
  }
  for (const f of FLAG_TYPES) {
    const override = f.apply(opts);
    if (!override) continue;
    const ofType = selected.filter((n) => typeOf(n) === f.type);
    if (ofType.length !== 1) {
      const why =
        ofType.length === 0
          ? `no ${f.type} source is being restored (restoring: ${selected.join(', ') || 'nothing'})`
          : `${ofType.length} ${f.type} sources are being restored (${ofType.join(', ')})`;
      throw new UsageError(
        `${f.flag} applies to exactly one ${f.type} source, but ${why}; choose one with --source NAME`,
        f.flag.split('/')[0],
      );
    }
    targets[ofType[0]] = { ...targets[ofType[0]], ...override };
  }
  // A restore aimed elsewhere must not also overwrite the other selected sources in place: with
  // any override, every selected source needs one (or is left out with --source).
  const inPlace = selected.filter((n) => !targets[n]);
  if (Object.keys(targets).length && inPlace.length)
    throw new UsageError(
      `a target override is given, but ${inPlace.join(', ')} would be restored in place at the same time; ` +
        `name the sources to restore elsewhere with --source (e.g. --source ${Object.keys(targets).join(',')}), ` +
        `or give every selected source a target`,
      '--source',
    );
  return targets;
}
