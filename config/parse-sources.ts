import { globProblem } from '../lib/glob';
import { DEFAULT_RESTORE_ORDER } from './presets';
import {
  absPath,
  at,
  bool,
  choice,
  type Checker,
  hostPort,
  int,
  isAbsent,
  list,
  mapping,
  redactUrl,
  secret,
  size,
  str,
  url,
} from './check';
import { FILES_KEYS, parseFiles } from './parse-files';
import { parsePartialRetention, parsePartialTargets, checkRetentionKeepsSomething } from './parse-objectives';
import {
  QDRANT_MODES,
  REDIS_CAPTURES,
  SOURCE_TYPES,
  type FaissProbeOptions,
  type FaissSourceConfig,
  type QdrantSourceConfig,
  type RedisNode,
  type RedisSourceConfig,
  type Retention,
  type SourceConfig,
  type SourceType,
  type Targets,
} from './types';

const COMMON_KEYS = ['name', 'type', 'targets', 'retention', 'restoreOrder'] as const;
const TYPE_KEYS: Record<SourceType, readonly string[]> = {
  redis: ['url', 'cluster', 'username', 'password', 'db', 'pattern', 'tls', 'capture'],
  faiss: ['path', 'probe', 'include', 'exclude'],
  qdrant: ['url', 'apiKey', 'collection', 'collections', 'mode', 'alias'],
  files: FILES_KEYS,
};
const ALL_KEYS = [...new Set([...COMMON_KEYS, ...Object.values(TYPE_KEYS).flat()])];
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Options of the other source types, so `collection:` on a redis source says where it belongs. */
function foreignKeys(type: SourceType): Record<string, string> {
  const out: Record<string, string> = {};
  for (const other of SOURCE_TYPES) {
    if (other === type) continue;
    for (const k of TYPE_KEYS[other]) {
      if (!TYPE_KEYS[type].includes(k))
        out[k] = `'${k}' is an option of ${other} sources, and this source is type ${type}; remove it or change type`;
    }
  }
  return out;
}

const envName = (source: string, what: string) => `${source.toUpperCase().replace(/-/g, '_')}_${what}`;

export interface SourceDefaults {
  targets: Targets;
  retention: Retention;
}

/** Parses `sources:`; names are checked unique, every source gets effective targets and retention. */
export function parseSources(c: Checker, raw: unknown, defaults: SourceDefaults): SourceConfig[] | undefined {
  const p = 'sources';
  const example = 'sources: [{ name: sessions, type: redis, url: "redis://127.0.0.1:6379" }]';
  if (isAbsent(raw) || (Array.isArray(raw) && raw.length === 0)) {
    c.add(p, `is required: list at least one source to back up, e.g. ${example}`);
    return undefined;
  }
  const items = list(c, raw, p, example);
  if (!items) return undefined;
  const seen = new Map<string, number>();
  const out: SourceConfig[] = [];
  items.forEach((item, i) => {
    const sp = at(p, i);
    const typeValue = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).type : undefined;
    const type = (SOURCE_TYPES as readonly unknown[]).includes(typeValue) ? (typeValue as SourceType) : undefined;
    const o = mapping(c, item, sp, type ? [...COMMON_KEYS, ...TYPE_KEYS[type]] : ALL_KEYS, {
      foreign: type ? foreignKeys(type) : undefined,
      example: '{ name: sessions, type: redis, url: "redis://127.0.0.1:6379" }',
    });
    if (!o) return;
    const name = str(c, o.name, at(sp, 'name'), {
      pattern: NAME,
      hint: 'use lowercase letters, digits and -, starting with a letter or digit, at most 63 characters (it appears in workflow ids)',
    });
    if (isAbsent(o.name)) c.add(at(sp, 'name'), 'is required; give the source a name such as sessions or embeddings');
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined)
        c.add(at(sp, 'name'), `"${name}" is already the name of sources[${first}]; source names must be unique`, name);
      else seen.set(name, i);
    }
    if (isAbsent(o.type)) c.add(at(sp, 'type'), `is required; use one of ${SOURCE_TYPES.join(', ')}`);
    else choice(c, o.type, at(sp, 'type'), SOURCE_TYPES, 'a source type');

    const targets = { ...defaults.targets, ...parsePartialTargets(c, o.targets, at(sp, 'targets')) };
    const retention = { ...defaults.retention, ...parsePartialRetention(c, o.retention, at(sp, 'retention')) };
    if (!isAbsent(o.retention)) checkRetentionKeepsSomething(c, retention, at(sp, 'retention'));
    const restoreOrder = int(c, o.restoreOrder, at(sp, 'restoreOrder'), 0, 1000);
    if (!type) return;
    // A bad name must not hide the source's other problems: check the rest under a stand-in name
    // (used only in hints), and keep the source out of the result.
    const common = {
      name: name ?? 'source',
      type,
      targets,
      retention,
      restoreOrder: restoreOrder ?? DEFAULT_RESTORE_ORDER[type],
    };
    const parsed =
      type === 'redis'
        ? parseRedis(c, o, sp, common)
        : type === 'faiss'
          ? parseFaiss(c, o, sp, common)
          : type === 'files'
            ? parseFiles(c, o, sp, common)
            : parseQdrant(c, o, sp, common);
    if (parsed && name !== undefined) out.push(parsed);
  });
  return out;
}

type Common = Pick<SourceConfig, 'name' | 'targets' | 'retention' | 'restoreOrder'> & { type: SourceType };

function parseRedis(c: Checker, o: Record<string, unknown>, sp: string, common: Common): RedisSourceConfig | undefined {
  const before = c.problems.length;
  const pwEnv = envName(common.name, 'REDIS_PASSWORD');
  const hasUrl = !isAbsent(o.url);
  const hasCluster = !isAbsent(o.cluster);
  if (hasUrl && hasCluster)
    c.add(
      sp,
      'gives both url and cluster; use url for one Redis instance or cluster for the seed nodes of a Redis Cluster',
    );
  if (!hasUrl && !hasCluster)
    c.add(
      at(sp, 'url'),
      'is required for a redis source; write url: redis://host:6379 (or cluster: ["host:7000", "host2:7000"] for a Redis Cluster)',
    );

  let redisUrl: string | undefined;
  let urlTls = false;
  const u = url(
    c,
    o.url,
    at(sp, 'url'),
    ['redis', 'rediss'],
    `write password: { env: ${pwEnv} }`,
    'redis://10.0.0.5:6379',
  );
  if (u) {
    urlTls = u.protocol === 'rediss:';
    if (u.username)
      c.add(
        at(sp, 'url'),
        `contains a user name; remove it from the URL and write username: ${decodeURIComponent(u.username)}`,
        redactUrl(String(o.url)),
      );
    const dbInPath = /^\/(\d+)$/.exec(u.pathname);
    if (dbInPath)
      c.add(
        at(sp, 'url'),
        `ends in a db number; remove /${dbInPath[1]} from the URL and write db: ${dbInPath[1]}`,
        o.url,
      );
    else if (u.pathname && u.pathname !== '/')
      c.add(at(sp, 'url'), `has a path "${u.pathname}"; a redis URL is scheme://host:port`, o.url);
    redisUrl = `${u.protocol}//${u.host}`;
  }

  let cluster: RedisNode[] | undefined;
  const nodes = list(c, o.cluster, at(sp, 'cluster'), 'cluster: ["10.0.0.5:7000", "10.0.0.6:7000"]');
  if (nodes) {
    if (nodes.length === 0) c.add(at(sp, 'cluster'), 'is empty; list at least one seed node, e.g. ["10.0.0.5:7000"]');
    cluster = [];
    const keys = new Set<string>();
    nodes.forEach((n, j) => {
      const hp = hostPort(c, n, at(at(sp, 'cluster'), j), '10.0.0.5:7000');
      if (!hp) return;
      const key = `${hp.host}:${hp.port}`;
      if (keys.has(key)) c.add(at(at(sp, 'cluster'), j), `"${String(n)}" is listed twice`, n);
      keys.add(key);
      cluster!.push(hp);
    });
  }

  let db: number | 'all' = 'all';
  if (o.db === 'all' || isAbsent(o.db)) db = 'all';
  else {
    const n = typeof o.db === 'number' ? int(c, o.db, at(sp, 'db'), 0, 15) : undefined;
    if (typeof o.db !== 'number')
      c.add(at(sp, 'db'), `${JSON.stringify(o.db)} is not a db; use a number 0-15 or "all"`, o.db);
    if (n !== undefined) db = n;
  }
  // Redis Cluster has a single db, so "all" and 0 mean the same there.
  if (hasCluster) {
    if (db !== 'all' && db !== 0)
      c.add(at(sp, 'db'), `Redis Cluster has only db 0; remove db: ${db} or write db: 0`, db);
    db = 0;
  }

  const tls = bool(c, o.tls, at(sp, 'tls'));
  if (urlTls && tls === false)
    c.add(at(sp, 'tls'), 'is false but the URL is rediss:// (always TLS); remove tls: false or use redis://', false);
  const pattern =
    str(c, o.pattern, at(sp, 'pattern'), { hint: 'give a SCAN pattern such as "*" or "session:*"' }) ?? '*';
  const username = str(c, o.username, at(sp, 'username'));
  const password = secret(c, o.password, at(sp, 'password'), pwEnv);
  const capture = isAbsent(o.capture)
    ? undefined
    : choice(c, o.capture, at(sp, 'capture'), REDIS_CAPTURES, 'a capture method');
  if (capture === 'sync' && hasCluster)
    c.add(
      at(sp, 'capture'),
      'is sync, but a Redis Cluster is read with SCAN; remove capture (auto) or write capture: scan',
      capture,
    );
  if (c.problems.length > before) return undefined;
  return {
    ...common,
    type: 'redis' as const,
    ...(redisUrl !== undefined ? { url: redisUrl } : {}),
    ...(cluster ? { cluster } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password ? { password } : {}),
    db,
    pattern,
    tls: tls ?? urlTls,
    ...(capture ? { capture } : {}),
  };
}

function parseFaiss(c: Checker, o: Record<string, unknown>, sp: string, common: Common): FaissSourceConfig | undefined {
  const before = c.problems.length;
  if (isAbsent(o.path))
    c.add(
      at(sp, 'path'),
      'is required for a faiss source; give the absolute path of the index file or of its directory, e.g. /var/lib/app/index.faiss',
    );
  const path = absPath(c, o.path, at(sp, 'path'), '/var/lib/app/index.faiss');
  const probe: { -readonly [K in keyof FaissProbeOptions]: FaissProbeOptions[K] } = {
    maxBytes: 2 * 2 ** 30,
    queries: 8,
    k: 10,
  };
  const pp = at(sp, 'probe');
  if (o.probe === false) probe.queries = 0;
  else if (o.probe !== true && !isAbsent(o.probe)) {
    const po = mapping(c, o.probe, pp, ['maxBytes', 'queries', 'k'], {
      example: '{ maxBytes: 2GiB, queries: 8, k: 10 } or false',
    });
    if (po) {
      probe.maxBytes = size(c, po.maxBytes, at(pp, 'maxBytes')) ?? probe.maxBytes;
      probe.queries = int(c, po.queries, at(pp, 'queries'), 0, 1000) ?? probe.queries;
      probe.k = int(c, po.k, at(pp, 'k'), 1, 1000) ?? probe.k;
    }
  }
  const include = faissGlobs(c, o.include, at(sp, 'include'));
  const exclude = faissGlobs(c, o.exclude, at(sp, 'exclude'));
  if (c.problems.length > before || path === undefined) return undefined;
  return {
    ...common,
    type: 'faiss',
    path,
    probe,
    ...(include ? { include } : {}),
    ...(exclude ? { exclude } : {}),
  };
}

/** include/exclude of a FAISS folder: a glob or a list of globs, each checked (every problem reported). */
function faissGlobs(c: Checker, v: unknown, p: string): string[] | undefined {
  if (isAbsent(v)) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) {
    c.add(p, 'must be a glob or a non-empty list of globs relative to the folder, e.g. ["**/*.index", "shards/*.bin"]');
    return undefined;
  }
  const out: string[] = [];
  list.forEach((g: unknown, i) => {
    const gp = Array.isArray(v) ? `${p}[${i}]` : p;
    if (typeof g !== 'string') return c.add(gp, 'must be a glob string, e.g. "**/*.index"');
    const problem = globProblem(g);
    if (problem) return c.add(gp, `${JSON.stringify(g)} ${problem}`);
    out.push(g);
  });
  return out.length === list.length ? out : undefined;
}

const COLLECTION = { hint: 'a Qdrant collection name: no "/", at most 255 characters' };
function collectionName(c: Checker, v: unknown, p: string): string | undefined {
  const s = str(c, v, p, COLLECTION);
  if (s !== undefined && (s.includes('/') || s.length > 255)) {
    c.add(p, `"${s}" is not a valid collection name; ${COLLECTION.hint}`, s);
    return undefined;
  }
  return s;
}

function parseQdrant(
  c: Checker,
  o: Record<string, unknown>,
  sp: string,
  common: Common,
): QdrantSourceConfig | undefined {
  const before = c.problems.length;
  const keyEnv = envName(common.name, 'QDRANT_API_KEY');
  if (isAbsent(o.url)) c.add(at(sp, 'url'), 'is required for a qdrant source; write url: http://qdrant:6333');
  const u = url(c, o.url, at(sp, 'url'), ['http', 'https'], `write apiKey: { env: ${keyEnv} }`, 'http://qdrant:6333');
  const apiKey = secret(c, o.apiKey, at(sp, 'apiKey'), keyEnv);
  const hasOne = !isAbsent(o.collection);
  const hasMany = !isAbsent(o.collections);
  const collections: string[] = [];
  if (hasOne && hasMany)
    c.add(sp, 'gives both collection and collections; use collection: NAME for one, collections: [a, b] for several');
  else if (!hasOne && !hasMany)
    c.add(at(sp, 'collection'), 'is required for a qdrant source; write collection: NAME (or collections: [a, b])');
  else if (hasOne) {
    const n = collectionName(c, o.collection, at(sp, 'collection'));
    if (n !== undefined) collections.push(n);
  } else {
    const names = list(c, o.collections, at(sp, 'collections'), 'collections: [docs, faq]');
    if (names?.length === 0) c.add(at(sp, 'collections'), 'is empty; list at least one collection');
    names?.forEach((v, j) => {
      const n = collectionName(c, v, at(at(sp, 'collections'), j));
      if (n === undefined) return;
      if (collections.includes(n)) c.add(at(at(sp, 'collections'), j), `"${n}" is listed twice`, n);
      else collections.push(n);
    });
  }
  const mode = choice(c, o.mode, at(sp, 'mode'), QDRANT_MODES, 'a qdrant backup mode') ?? 'snapshot';
  const alias = collectionName(c, o.alias, at(sp, 'alias'));
  if (alias !== undefined && hasMany)
    c.add(
      at(sp, 'alias'),
      'works with a single collection only (restore into a new collection, then switch the alias); use collection: NAME, or one source per collection',
    );
  if (alias !== undefined && collections.includes(alias))
    c.add(
      at(sp, 'alias'),
      `"${alias}" is also the collection's name; Qdrant needs the alias and the collection to differ`,
      alias,
    );
  if (c.problems.length > before || !u) return undefined;
  return {
    ...common,
    type: 'qdrant',
    url: u.href.replace(/\/+$/, ''),
    ...(apiKey ? { apiKey } : {}),
    collections,
    mode,
    ...(alias !== undefined ? { alias } : {}),
  };
}
