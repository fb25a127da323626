import { CommandBuilder } from './wire/command-builder';
import { ReplyError } from './wire/resp-parser';
import { keySlotLatin1, SLOTS } from './slot';
import { RedisCommandError } from './errors';
import type { Topology } from './topology';

/**
 * The key names of one db in canonical order: ascending hash slot, then
 * ascending key bytes. The order depends on the keys alone — not on SCAN's
 * cursor order, rehashing or which master holds a slot — so backing up the
 * same data twice gives the same bytes, an unchanged key lands at the same
 * place in the next backup (content-defined chunking then dedups it), and a
 * cluster and a standalone copy of the same data produce identical streams.
 *
 * Keys are held as latin1 strings (one char per byte, so binary-safe), about
 * 40 bytes plus the key length each; values are never held here. Sorting
 * within each of the 16384 slot buckets is much cheaper than one global sort.
 */
export interface OrderedKeys {
  keys: string[];
  slots: Uint16Array;
}

/** SCAN COUNT: keys the server looks at per call. */
const SCAN_COUNT = 2000;

export async function collectKeys(
  topo: Topology,
  pattern: Buffer | undefined,
  o: { signal?: AbortSignal; onKeys?: (listed: number) => void } = {},
): Promise<OrderedKeys> {
  const buckets: (string[] | undefined)[] = new Array(SLOTS);
  let total = 0;
  await Promise.all(
    topo.nodes.map(async (node) => {
      const scan = (cursor: string) => {
        const b = new CommandBuilder();
        b.begin(pattern ? 6 : 4)
          .str('SCAN')
          .str(cursor);
        if (pattern) b.str('MATCH').buf(pattern);
        b.str('COUNT').num(SCAN_COUNT);
        return node.wire.send(b, { latin1: true });
      };
      let next = scan('0');
      for (;;) {
        const [reply] = await next;
        if (reply instanceof ReplyError) throw new RedisCommandError(node.address, 'SCAN', reply.message);
        const [cursor, keys] = reply as unknown as [string, (string | Buffer)[]];
        // Ask for the next page before sorting this one into buckets, so the server works meanwhile.
        if (cursor !== '0') {
          o.signal?.throwIfAborted();
          next = scan(cursor);
          next.catch(() => undefined);
        }
        for (const key of keys) {
          // Keys of 64 KiB and more still arrive as Buffers.
          const s = typeof key === 'string' ? key : key.toString('latin1');
          const slot = keySlotLatin1(s);
          const bucket = buckets[slot];
          if (bucket) bucket.push(s);
          else buckets[slot] = [s];
        }
        total += keys.length;
        o.onKeys?.(total);
        if (cursor === '0') break;
      }
    }),
  );
  const keys: string[] = new Array(total);
  const slots = new Uint16Array(total);
  let n = 0;
  for (let slot = 0; slot < SLOTS; slot++) {
    const bucket = buckets[slot];
    if (!bucket) continue;
    if (bucket.length > 1) bucket.sort();
    let prev: string | undefined;
    for (const k of bucket) {
      // SCAN may return a key twice (while the table rehashes): keep one.
      if (k === prev) continue;
      prev = k;
      keys[n] = k;
      slots[n++] = slot;
    }
    buckets[slot] = undefined;
  }
  keys.length = n;
  return { keys, slots: slots.subarray(0, n) };
}
