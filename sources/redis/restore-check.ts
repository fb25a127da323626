import { RecordDecoder, chunkIterator, asBuffer, type ByteSource } from './format/reader';
import { openTopology } from './topology';
import { NEWEST_KNOWN_RDB, topologyCapabilities, rebuildProblem, type TargetCapabilities } from './compat';
import { decodeDump } from './rdb/value';
import { globMatch } from './glob';
import { printableKey } from './errors';
import type { RedisConnectionOptions } from './types';

export interface RedisTargetCheck {
  target: TargetCapabilities;
  /** Keys whose payload the target cannot RESTORE and that will be rebuilt with type commands. */
  rebuild: number;
  /** One line per kind of key the target cannot take at all, naming (some of) the keys. */
  problems: string[];
}

const NAMED = 10;

/**
 * Restore pre-flight: reads the target's version and capabilities, then the
 * backup stream, and finds the keys whose DUMP payload is newer than the
 * target reads (to be rebuilt) and those it cannot take at all (a vector set
 * into Redis 7.0, a hash with field TTLs into a server without them) — before
 * anything is written. Nothing is written here.
 */
export async function checkRedisTarget(
  input: ByteSource,
  target: RedisConnectionOptions,
  o: { pattern?: string; signal?: AbortSignal } = {},
): Promise<RedisTargetCheck> {
  const topo = await openTopology({ ...target, db: undefined }, o.signal);
  const it = chunkIterator(input);
  try {
    const caps = await topologyCapabilities(topo);
    const pattern = o.pattern ? Buffer.from(o.pattern, 'utf8') : undefined;
    const dec = new RecordDecoder();
    const pull = async () => {
      o.signal?.throwIfAborted();
      const r = await it.next();
      if (r.done) return false;
      dec.push(asBuffer(r.value));
      return true;
    };
    while (!dec.header()) if (!(await pull())) dec.finish();
    const refused = new Map<string, { keys: string[]; count: number }>();
    let rebuild = 0;
    for (;;) {
      let rec;
      while (!(rec = dec.next())) if (!(await pull())) dec.finish();
      if (rec.tag === 'end') break;
      if (rec.tag !== 'key' || !rec.dump || rec.value.length < 11) continue;
      const version = rec.value.readUInt16LE(rec.value.length - 10);
      if (version <= caps.maxRdb) continue;
      if (pattern && !globMatch(pattern, rec.key)) continue;
      const problem =
        version > NEWEST_KNOWN_RDB
          ? `a payload of RDB v${version}, newer than this Lifeboat can rebuild`
          : rebuildProblem(decodeDump(rec.value), caps);
      if (!problem) {
        rebuild++;
        continue;
      }
      const r = refused.get(problem) ?? { keys: [], count: 0 };
      if (r.keys.length < NAMED) r.keys.push(printableKey(rec.key));
      r.count++;
      refused.set(problem, r);
    }
    const problems = [...refused].map(
      ([what, r]) =>
        `${caps.server} cannot take ${r.count} key${r.count === 1 ? '' : 's'} of the backup: ${r.keys.join(', ')}${r.count > r.keys.length ? `, … (${r.count - r.keys.length} more)` : ''} — each is ${what}, written by a newer server; restore into a server that has this type, or leave those keys out with a pattern`,
    );
    return { target: caps, rebuild, problems };
  } finally {
    topo.close();
    await Promise.resolve(it.return?.()).catch(() => undefined);
  }
}
