import { openTopology } from '../../sources/redis/topology';
import { CommandBuilder } from '../../sources/redis/wire/command-builder';
import { ReplyError, type Reply } from '../../sources/redis/wire/resp-parser';
import { RedisCommandError, RedisOptionsError } from '../../sources/redis/errors';
import type { RedisConnectionOptions } from '../../sources/redis/types';
import type { FindingBuilder } from '../finding';
import type { RedisIdSpec } from '../types';

const SCAN_COUNT = 1000;

/** Keys arrive as latin1 strings (one char per byte); ids are shown and compared as UTF-8 text. */
const NON_ASCII = /[\x80-\xff]/;
const utf8 = (latin1: string) => (NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1);

function textOf(r: Reply): string | undefined {
  if (Buffer.isBuffer(r)) return r.toString('utf8');
  if (typeof r === 'string') return utf8(r);
  if (typeof r === 'number') return String(r);
  return undefined;
}

/** `a.b.c` of a parsed JSON value; ids are strings or numbers. */
function jsonField(doc: unknown, field: string): string | undefined {
  let cur = doc;
  for (const part of field.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (typeof cur === 'string' && cur !== '') return cur;
  if (typeof cur === 'number' && Number.isFinite(cur)) return String(cur);
  return undefined;
}

/**
 * Streams the ids of the records matching `spec.pattern` in one db (every master of a cluster):
 * SCAN pages, and for a field id one pipelined HGET/GET per page. A record whose id cannot be read
 * (no such field, another type, not JSON) is counted in `withoutId`, by key.
 */
export async function readRedisIds(
  conn: RedisConnectionOptions,
  spec: RedisIdSpec,
  onIds: (ids: string[]) => Promise<void>,
  withoutId: FindingBuilder,
  signal?: AbortSignal,
): Promise<void> {
  const topo = await openTopology({ ...conn, db: undefined }, signal);
  const onAbort = () => topo.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (!topo.cluster && spec.db !== 0) {
      try {
        await topo.nodes[0].wire.call('SELECT', spec.db);
      } catch (e) {
        throw new RedisOptionsError(
          'db',
          `db ${spec.db} cannot be selected on Redis at ${topo.address} (${(e as Error).message})`,
        );
      }
    }
    const pattern = Buffer.from(spec.pattern, 'utf8');
    for (const node of topo.nodes) {
      let cursor = '0';
      do {
        signal?.throwIfAborted();
        const [reply] = await node.wire.send(
          new CommandBuilder().begin(6).str('SCAN').str(cursor).str('MATCH').buf(pattern).str('COUNT').num(SCAN_COUNT),
          { latin1: true },
        );
        if (reply instanceof ReplyError) throw new RedisCommandError(node.address, 'SCAN', reply.message);
        const [next, raw] = reply as unknown as [string, (string | Buffer)[]];
        cursor = String(next);
        const keys = raw.map((k) => (typeof k === 'string' ? k : k.toString('latin1')));
        if (!keys.length) continue;
        const id = spec.id;
        if (id.from === 'key-suffix') {
          await onIds(keys.map((k) => utf8(k.slice(spec.prefixLatin1.length))));
          continue;
        }
        const b = new CommandBuilder();
        for (const k of keys) {
          if (id.from === 'hash-field') b.begin(3).str('HGET').str(k).buf(Buffer.from(id.field, 'utf8'));
          else b.begin(2).str('GET').str(k);
        }
        const replies = await node.wire.send(b);
        const ids: string[] = [];
        replies.forEach((r, i) => {
          let v: string | undefined;
          if (!(r instanceof ReplyError) && r !== null) {
            const text = textOf(r);
            if (id.from === 'hash-field') v = text || undefined;
            else if (text !== undefined) {
              try {
                v = jsonField(JSON.parse(text), id.field);
              } catch {
                v = undefined;
              }
            }
          }
          if (v === undefined) withoutId.add(utf8(keys[i]));
          else ids.push(v);
        });
        if (ids.length) await onIds(ids);
      } while (cursor !== '0');
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    topo.close();
  }
}
