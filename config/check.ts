import path from 'node:path';
import { parseDuration, formatDuration } from './duration';
import { parseSize } from './size';
import { closest } from './suggest';
import type { ConfigProblem, SecretRef } from './types';

/**
 * Validation primitives. Each reads one value at a config path, records a
 * problem (path, what is wrong, how to fix it) instead of throwing, and
 * returns undefined when the value is unusable, so one pass collects every
 * problem in the file.
 */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  add(path: string, message: string, value?: unknown): void {
    this.problems.push(value === undefined ? { path, message } : { path, message, value });
  }
}

/** `at('sources', 1)` → `sources[1]`, `at('temporal', 'tls')` → `temporal.tls`. */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** YAML `key:` with nothing after it is null; it means "not set", like leaving the key out. */
export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function describe(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v === 'number' ? 'the number' : typeof v} ${String(v)}`;
}

export function quoteList(values: readonly string[]): string {
  return values.join(', ');
}

export interface MappingOptions {
  /** Keys that belong elsewhere, with the explanation to give ("a qdrant option; this source is redis"). */
  foreign?: Readonly<Record<string, string>>;
  /** Example to show when the value is not a mapping. */
  example?: string;
}

/**
 * A mapping at `path`, with every key not in `known` reported (with the
 * closest known key as a suggestion, for typos).
 */
export function mapping(
  c: Checker,
  v: unknown,
  p: string,
  known: readonly string[],
  opts: MappingOptions = {},
): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    c.add(
      p || '(top level)',
      `must be a mapping (key: value lines), not ${describe(v)}${opts.example ? `; e.g. ${opts.example}` : ''}`,
      Array.isArray(v) || typeof v !== 'object' ? v : undefined,
    );
    return undefined;
  }
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    const foreign = opts.foreign?.[key];
    if (foreign) {
      c.add(at(p, key), foreign);
      continue;
    }
    const guess = closest(key, known);
    c.add(
      at(p, key),
      guess ? `unknown option; did you mean '${guess}'?` : `unknown option; valid options here are ${quoteList(known)}`,
    );
  }
  return o;
}

export function str(
  c: Checker,
  v: unknown,
  p: string,
  opts: { pattern?: RegExp; hint?: string } = {},
): string | undefined {
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'string') {
    // Quoting fixes the usual cause: YAML reads `namespace: 123` or `name: yes` as a number or boolean.
    c.add(
      p,
      `must be a string, not ${describe(v)}${typeof v === 'number' || typeof v === 'boolean' ? `; quote it: "${String(v)}"` : ''}`,
      v,
    );
    return undefined;
  }
  const s = v.trim();
  if (s === '') {
    c.add(p, `is empty${opts.hint ? `; ${opts.hint}` : ''}`, v);
    return undefined;
  }
  if (opts.pattern && !opts.pattern.test(s)) {
    c.add(p, `${JSON.stringify(v)} is not valid${opts.hint ? `; ${opts.hint}` : ''}`, v);
    return undefined;
  }
  return s;
}

export function int(c: Checker, v: unknown, p: string, min: number, max: number): number | undefined {
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    c.add(p, `${describe(v)} is not allowed; use a whole number from ${min} to ${max}`, v);
    return undefined;
  }
  return v;
}

export function bool(c: Checker, v: unknown, p: string): boolean | undefined {
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'boolean') {
    c.add(p, `${describe(v)} is not allowed; use true or false`, v);
    return undefined;
  }
  return v;
}

/** One of `values`; the message names the noun ("a source type") and lists the valid values. */
export function choice<T extends string>(
  c: Checker,
  v: unknown,
  p: string,
  values: readonly T[],
  noun: string,
): T | undefined {
  if (isAbsent(v)) return undefined;
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  const guess = typeof v === 'string' ? closest(v, values) : undefined;
  const shown = typeof v === 'string' ? JSON.stringify(v) : describe(v);
  c.add(p, `${shown} is not ${noun}; ${guess ? `did you mean "${guess}"? ` : ''}use one of ${quoteList(values)}`, v);
  return undefined;
}

export function duration(c: Checker, v: unknown, p: string, min = 1): number | undefined {
  if (isAbsent(v)) return undefined;
  try {
    const ms = parseDuration(v as string);
    if (ms < min) {
      c.add(p, `"${v as string}" is too short; use at least ${formatDuration(min)}`, v);
      return undefined;
    }
    return ms;
  } catch (e) {
    c.add(p, (e as Error).message, v);
    return undefined;
  }
}

export function size(c: Checker, v: unknown, p: string): number | undefined {
  if (isAbsent(v)) return undefined;
  try {
    return parseSize(v as string | number);
  } catch (e) {
    c.add(p, (e as Error).message, v);
    return undefined;
  }
}

/** Absolute paths only: a relative one would depend on the worker's working directory. */
export function absPath(c: Checker, v: unknown, p: string, example: string): string | undefined {
  const s = str(c, v, p, { hint: `give an absolute path, e.g. ${example}` });
  if (s === undefined) return undefined;
  if (!path.isAbsolute(s)) {
    c.add(p, `"${s}" is a relative path; give an absolute path, e.g. ${example}`, v);
    return undefined;
  }
  return path.normalize(s);
}

/** A list; a lone scalar is reported rather than wrapped, so `sources: sessions` gets a clear fix. */
export function list(c: Checker, v: unknown, p: string, example: string): unknown[] | undefined {
  if (isAbsent(v)) return undefined;
  if (!Array.isArray(v)) {
    c.add(p, `must be a list, not ${describe(v)}; e.g. ${example}`, v);
    return undefined;
  }
  return v;
}

const secretFileExample = (env: string) =>
  `/etc/lifeboat/${env
    .toLowerCase()
    .replace(/^lifeboat_/, '')
    .replace(/_/g, '-')}`;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A secret reference `{ env: NAME }` or `{ file: /path }`. A literal secret
 * is a problem, and its value is never repeated in the message or the
 * problem (the error may end up in logs).
 */
export function secret(c: Checker, v: unknown, p: string, suggestedEnv: string): SecretRef | undefined {
  if (isAbsent(v)) return undefined;
  const key = p.slice(p.lastIndexOf('.') + 1);
  const example = `\`${key}: { env: ${suggestedEnv} }\``;
  if (typeof v !== 'object' || Array.isArray(v)) {
    c.add(
      p,
      `is a literal secret; never write secrets into the config: put it in an environment variable or a file and write ${example} (or \`${key}: { file: ${secretFileExample(suggestedEnv)} }\`)`,
    );
    return undefined;
  }
  const o = mapping(c, v, p, ['env', 'file', 'allowInsecurePermissions']);
  if (!o) return undefined;
  const allowInsecure = o.allowInsecurePermissions;
  if (!isAbsent(allowInsecure) && (typeof allowInsecure !== 'boolean' || !isAbsent(o.env))) {
    c.add(
      at(p, 'allowInsecurePermissions'),
      typeof allowInsecure !== 'boolean' ? 'must be true or false' : 'applies to { file: ... } references only',
    );
    return undefined;
  }
  const hasEnv = !isAbsent(o.env);
  const hasFile = !isAbsent(o.file);
  if (hasEnv === hasFile) {
    c.add(
      p,
      `${hasEnv ? 'gives both env and file' : 'gives neither env nor file'}; write exactly one, e.g. ${example}`,
    );
    return undefined;
  }
  if (hasEnv) {
    if (typeof o.env !== 'string' || !ENV_NAME.test(o.env)) {
      // Not echoed: a value that is not a variable name may well be the secret itself.
      c.add(
        at(p, 'env'),
        `is not an environment variable name (letters, digits and _, not starting with a digit); e.g. ${example}`,
      );
      return undefined;
    }
    return { env: o.env };
  }
  const file = absPath(c, o.file, at(p, 'file'), secretFileExample(suggestedEnv));
  return file === undefined
    ? undefined
    : { file, ...(allowInsecure === true ? { allowInsecurePermissions: true } : {}) };
}

/** Redacts the password of a URL for messages: `redis://:***@host`. */
export function redactUrl(u: string): string {
  return u.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo}@`;
  });
}

/**
 * A URL with one of `schemes` and no credentials in it; credentials belong
 * in secret references (a URL is printed in logs and workflow histories).
 */
export function url(
  c: Checker,
  v: unknown,
  p: string,
  schemes: readonly string[],
  credentialsFix: string,
  example: string,
): URL | undefined {
  const s = str(c, v, p, { hint: `e.g. ${example}` });
  if (s === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    c.add(p, `${JSON.stringify(redactUrl(s))} is not a URL; e.g. ${example}`, redactUrl(s));
    return undefined;
  }
  if (u.password) {
    c.add(p, `contains a password; remove it from the URL and ${credentialsFix}`, redactUrl(s));
    return undefined;
  }
  if (!schemes.includes(u.protocol.slice(0, -1))) {
    c.add(
      p,
      `"${u.protocol}//" is not supported here; use ${schemes.map((x) => `${x}://`).join(' or ')}, e.g. ${example}`,
      s,
    );
    return undefined;
  }
  if (!u.hostname) {
    c.add(p, `has no host; e.g. ${example}`, s);
    return undefined;
  }
  return u;
}

/** `host:port`, as in `127.0.0.1:7233`, `temporal.example.com:7233` or `[::1]:7233`. */
export function hostPort(
  c: Checker,
  v: unknown,
  p: string,
  example: string,
): { host: string; port: number } | undefined {
  const s = str(c, v, p, { hint: `write host:port, e.g. ${example}` });
  if (s === undefined) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    const scheme = /^[a-z]+:\/\//i.test(s) ? ' (no scheme)' : '';
    c.add(p, `"${s}" is not host:port${scheme}; write e.g. ${example}`, s);
    return undefined;
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
