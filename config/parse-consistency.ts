import path from 'node:path';
import { at, choice, type Checker, describe, int, isAbsent, list, mapping, str } from './check';
import type {
  ConsistencyConfig,
  ConsistencyFaissSide,
  ConsistencyLinkConfig,
  ConsistencyQdrantSide,
  ConsistencyRedisId,
  ConsistencyRedisSide,
  SourceConfig,
  SourceType,
} from './types';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LINK_KEYS = ['name', 'redis', 'faiss', 'qdrant', 'dimension', 'compare', 'examples'] as const;
const EXAMPLE =
  '{ name: chimera, dimension: 384, redis: { source: meta, pattern: "chimera-vectors:*", id: key-suffix }, qdrant: { source: docs } }';
export const CONSISTENCY_DEFAULTS = { examples: 10, tolerance: 1e-6 } as const;

/** Where a glob's literal start ends: the first unescaped `*`, `?` or `[`. */
export function literalPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      out += pattern[++i];
      continue;
    }
    if (ch === '*' || ch === '?' || ch === '[') return out;
    out += ch;
  }
  return out;
}

/**
 * `consistency:` — named links between sources (docs/consistency.md). Every side names a source of
 * the right type; every problem is reported at once, like the rest of the config.
 * @param declared names written in `sources:` (a source with problems of its own is not blamed again)
 */
export function parseConsistency(
  c: Checker,
  raw: unknown,
  sources: readonly SourceConfig[] | undefined,
  declared: readonly string[] | undefined,
): ConsistencyConfig {
  if (isAbsent(raw)) return { links: [] };
  const o = mapping(c, raw, 'consistency', ['links'], { example: `{ links: [${EXAMPLE}] }` });
  if (!o) return { links: [] };
  const items = list(c, o.links, 'consistency.links', `[${EXAMPLE}]`);
  if (!items) {
    if (isAbsent(o.links)) c.add('consistency.links', `is required under consistency:; e.g. links: [${EXAMPLE}]`);
    return { links: [] };
  }
  const seen = new Map<string, number>();
  const links: ConsistencyLinkConfig[] = [];
  items.forEach((item, i) => {
    const lp = at('consistency.links', i);
    const before = c.problems.length;
    const l = mapping(c, item, lp, LINK_KEYS, { example: EXAMPLE });
    if (!l) return;
    const name = str(c, l.name, at(lp, 'name'), {
      pattern: NAME,
      hint: 'use lowercase letters, digits and -, starting with a letter or digit (lifeboat check --link NAME)',
    });
    if (isAbsent(l.name)) c.add(at(lp, 'name'), 'is required; name the link, e.g. name: chimera-vectors');
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined)
        c.add(
          at(lp, 'name'),
          `"${name}" is already the name of consistency.links[${first}]; link names must be unique`,
        );
      else seen.set(name, i);
    }
    const side = (type: SourceType) => sourceFor(c, l[type], at(at(lp, type), 'source'), type, sources, declared);
    const redis = isAbsent(l.redis) ? undefined : parseRedisSide(c, l.redis, at(lp, 'redis'), side('redis'));
    const faiss = isAbsent(l.faiss) ? undefined : parseFaissSide(c, l.faiss, at(lp, 'faiss'), side('faiss'));
    const qdrant = isAbsent(l.qdrant) ? undefined : parseQdrantSide(c, l.qdrant, at(lp, 'qdrant'), side('qdrant'));
    const present = (['redis', 'faiss', 'qdrant'] as const).filter((k) => !isAbsent(l[k]));
    if (present.length < 2)
      c.add(
        lp,
        `links ${present.length ? `only ${present[0]}` : 'no store'}; a link relates at least two of redis, faiss and qdrant (e.g. the Redis records and the Qdrant points describing them)`,
      );
    const dimension = int(c, l.dimension, at(lp, 'dimension'), 1, 65536);
    if (dimension !== undefined && isAbsent(l.faiss) && isAbsent(l.qdrant))
      c.add(at(lp, 'dimension'), 'applies to vectors, and this link has neither faiss nor qdrant; remove it');
    const examples = int(c, l.examples, at(lp, 'examples'), 1, 1000) ?? CONSISTENCY_DEFAULTS.examples;
    let compare: ConsistencyLinkConfig['compare'];
    if (!isAbsent(l.compare)) {
      const cp = at(lp, 'compare');
      const co = mapping(c, l.compare, cp, ['sample', 'tolerance'], { example: '{ sample: 100, tolerance: 1e-6 }' });
      if (co) {
        if (isAbsent(l.faiss) || isAbsent(l.qdrant))
          c.add(cp, 'compares FAISS vectors with Qdrant vectors, so the link needs both faiss and qdrant');
        const sample = int(c, co.sample, at(cp, 'sample'), 1, 100_000);
        if (isAbsent(co.sample)) c.add(at(cp, 'sample'), 'is required: how many ids to compare, e.g. sample: 100');
        let tolerance: number = CONSISTENCY_DEFAULTS.tolerance;
        if (!isAbsent(co.tolerance)) {
          if (typeof co.tolerance !== 'number' || !Number.isFinite(co.tolerance) || co.tolerance < 0)
            c.add(
              at(cp, 'tolerance'),
              `${describe(co.tolerance)} is not a tolerance; use a number ≥ 0 (largest allowed difference per component), e.g. 1e-6`,
              co.tolerance,
            );
          else tolerance = co.tolerance;
        }
        if (sample !== undefined) compare = { sample, tolerance };
      }
    }
    if (c.problems.length > before || name === undefined) return;
    links.push({
      name,
      ...(redis ? { redis } : {}),
      ...(faiss ? { faiss } : {}),
      ...(qdrant ? { qdrant } : {}),
      ...(dimension !== undefined ? { dimension } : {}),
      ...(compare ? { compare } : {}),
      examples,
    });
  });
  return { links };
}

/** The source a side names, checked to exist and to be of `type`. */
function sourceFor(
  c: Checker,
  rawSide: unknown,
  p: string,
  type: SourceType,
  sources: readonly SourceConfig[] | undefined,
  declared: readonly string[] | undefined,
): SourceConfig | undefined {
  if (typeof rawSide !== 'object' || rawSide === null || Array.isArray(rawSide)) return undefined;
  const v = (rawSide as Record<string, unknown>).source;
  if (isAbsent(v)) {
    const names = (sources ?? []).filter((s) => s.type === type).map((s) => s.name);
    c.add(
      p,
      `is required: the ${type} source of this side${names.length ? ` (${type} sources: ${names.join(', ')})` : ''}`,
    );
    return undefined;
  }
  const name = str(c, v, p);
  if (name === undefined) return undefined;
  const s = sources?.find((x) => x.name === name);
  if (!s) {
    // Declared but broken: its own problems are reported under sources:.
    if (declared?.includes(name)) return undefined;
    const ofType = (sources ?? []).filter((x) => x.type === type).map((x) => x.name);
    c.add(
      p,
      `"${name}" is not a configured source; ${ofType.length ? `${type} sources: ${ofType.join(', ')}` : `the config has no ${type} source`}`,
      name,
    );
    return undefined;
  }
  if (s.type !== type) {
    c.add(p, `"${name}" is a ${s.type} source, and this is the ${type} side of the link; name a ${type} source`, name);
    return undefined;
  }
  return s;
}

function fieldName(c: Checker, v: unknown, p: string): string | undefined {
  return str(c, v, p, { hint: 'give the field name, e.g. doc_id (dots reach into nested JSON: meta.id)' });
}

function parseRedisSide(
  c: Checker,
  raw: unknown,
  p: string,
  s: SourceConfig | undefined,
): ConsistencyRedisSide | undefined {
  const before = c.problems.length;
  const o = mapping(c, raw, p, ['source', 'pattern', 'id', 'db'], {
    example: '{ source: meta, pattern: "chimera-vectors:*", id: key-suffix }',
  });
  if (!o) return undefined;
  const pattern = str(c, o.pattern, at(p, 'pattern'), { hint: 'a SCAN glob such as "chimera-vectors:*"' });
  if (isAbsent(o.pattern))
    c.add(at(p, 'pattern'), 'is required: the keys of the link\'s records, e.g. pattern: "chimera-vectors:*"');
  let id: ConsistencyRedisId | undefined;
  const ip = at(p, 'id');
  if (isAbsent(o.id) || o.id === 'key-suffix') id = { from: 'key-suffix' };
  else if (typeof o.id === 'string')
    c.add(
      ip,
      `${JSON.stringify(o.id)} is not an id source; use key-suffix, { hashField: NAME } or { jsonField: NAME }`,
      o.id,
    );
  else {
    const io = mapping(c, o.id, ip, ['hashField', 'jsonField'], {
      example: 'key-suffix, { hashField: doc_id } or { jsonField: id }',
    });
    if (io) {
      if (isAbsent(io.hashField) === isAbsent(io.jsonField))
        c.add(ip, 'give exactly one of hashField (a field of a hash) and jsonField (a field of a JSON string value)');
      else if (!isAbsent(io.hashField)) {
        const f = fieldName(c, io.hashField, at(ip, 'hashField'));
        if (f !== undefined) id = { from: 'hash-field', field: f };
      } else {
        const f = fieldName(c, io.jsonField, at(ip, 'jsonField'));
        if (f !== undefined) id = { from: 'json-field', field: f };
      }
    }
  }
  const dbGiven = int(c, o.db, at(p, 'db'), 0, 15);
  let db = dbGiven ?? 0;
  if (s?.type === 'redis') {
    if (dbGiven === undefined && typeof s.db === 'number') db = s.db;
    if (s.cluster && db !== 0) c.add(at(p, 'db'), `source "${s.name}" is a Redis Cluster, which has only db 0`, db);
    else if (typeof s.db === 'number' && dbGiven !== undefined && dbGiven !== s.db)
      c.add(at(p, 'db'), `source "${s.name}" backs up db ${s.db} only; the link's records must be in it`, dbGiven);
  }
  if (id?.from === 'key-suffix' && pattern !== undefined && literalPrefix(pattern) === '' && pattern !== '*')
    c.add(
      at(p, 'pattern'),
      `"${pattern}" starts with a glob character, so key-suffix has no prefix to strip; start the pattern with the literal prefix (e.g. "chimera-vectors:*") or read the id from a field`,
      pattern,
    );
  if (c.problems.length > before || !s || pattern === undefined || !id) return undefined;
  return { source: s.name, pattern, prefix: literalPrefix(pattern), id, db };
}

function parseFaissSide(
  c: Checker,
  raw: unknown,
  p: string,
  s: SourceConfig | undefined,
): ConsistencyFaissSide | undefined {
  const before = c.problems.length;
  const o = mapping(c, raw, p, ['source', 'file', 'ids'], { example: '{ source: vectors, ids: positions }' });
  if (!o) return undefined;
  const ids = choice(c, o.ids, at(p, 'ids'), ['positions', 'idmap'] as const, 'a FAISS id mapping') ?? 'positions';
  const file = str(c, o.file, at(p, 'file'), { hint: 'the index file, relative to the source folder' });
  if (file !== undefined && (path.isAbsolute(file) || file.split(/[\\/]/).includes('..')))
    c.add(
      at(p, 'file'),
      `"${file}" must be relative to the source's folder, without "..", e.g. shards/main.index`,
      file,
    );
  if (c.problems.length > before || !s) return undefined;
  return { source: s.name, ids, ...(file !== undefined ? { file: path.normalize(file) } : {}) };
}

function parseQdrantSide(
  c: Checker,
  raw: unknown,
  p: string,
  s: SourceConfig | undefined,
): ConsistencyQdrantSide | undefined {
  const before = c.problems.length;
  const o = mapping(c, raw, p, ['source', 'collection', 'id', 'vector'], {
    example: '{ source: docs, collection: docs, id: point-id }',
  });
  if (!o) return undefined;
  let collection = str(c, o.collection, at(p, 'collection'));
  if (s?.type === 'qdrant') {
    if (collection === undefined) {
      if (s.collections.length === 1) collection = s.collections[0];
      else
        c.add(
          at(p, 'collection'),
          `is required: source "${s.name}" has several collections (${s.collections.join(', ')}); name the one of this link`,
        );
    } else if (!s.collections.includes(collection) && s.alias !== collection)
      c.add(
        at(p, 'collection'),
        `"${collection}" is not a collection of source "${s.name}" (${s.collections.join(', ')})`,
        collection,
      );
  }
  let id: ConsistencyQdrantSide['id'] | undefined;
  const ip = at(p, 'id');
  if (isAbsent(o.id) || o.id === 'point-id') id = { from: 'point-id' };
  else if (typeof o.id === 'string')
    c.add(ip, `${JSON.stringify(o.id)} is not an id source; use point-id or { payloadField: NAME }`, o.id);
  else {
    const io = mapping(c, o.id, ip, ['payloadField'], { example: 'point-id or { payloadField: doc_id }' });
    if (io) {
      const f = fieldName(c, io.payloadField, at(ip, 'payloadField'));
      if (isAbsent(io.payloadField)) c.add(at(ip, 'payloadField'), 'is required, e.g. { payloadField: doc_id }');
      if (f !== undefined) id = { from: 'payload-field', field: f };
    }
  }
  const vector = str(c, o.vector, at(p, 'vector'), { hint: 'the name of a named vector of the collection' });
  if (c.problems.length > before || !s || collection === undefined || !id) return undefined;
  return { source: s.name, collection, id, ...(vector !== undefined ? { vector } : {}) };
}
