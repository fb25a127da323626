import { CommandBuilder } from './wire/command-builder';
import * as resp from './wire/resp-parser';
import { keySlotLatin1 } from './slot';
import { fetchBatch, type ExpiryPolicy, type KeyBatch } from './key-reader';
import { ValueStore } from './value-store';
import { RedisCommandError } from './errors';
import type { OrderedKeys } from './keyspace';
import type { Topology } from './topology';

const { ReplyError } = resp;

/** SCAN COUNT: keys the server looks at per call. */
const SCAN_COUNT = 2000;

export interface ScanReadOptions {
  signal?: AbortSignal;
  /** Value bytes (plus ~50 per key) held while scanning before falling back to two passes. @default 256 MiB */
  budgetBytes?: number;
  /** Read batches in flight. @default 6 */
  depth?: number;
  /** Called as keys are scanned and read. */
  onKeys?: (scanned: number, read: number) => void;
}

export interface ScanReadResult {
  /** Every key's value and expiry, when they fitted the budget. */
  store?: ValueStore;
  /** Otherwise the key names in canonical order, to be read in a second pass. */
  keys?: OrderedKeys;
}

/** Key names of a store that dropped its values, in canonical order. */
function orderedKeys(store: ValueStore): OrderedKeys {
  const idx = store.order();
  const keys = new Array<string>(idx.length);
  const slots = new Uint16Array(idx.length);
  for (let j = 0; j < idx.length; j++) {
    keys[j] = store.keys[idx[j]];
    slots[j] = store.slots[idx[j]];
  }
  return { keys, slots };
}

/**
 * Lists a db's keys with SCAN and, while the values fit `budgetBytes`, reads
 * each page's values and expiries right away — the server just touched those
 * entries, and reading them then costs it markedly less than reading the same
 * keys later in canonical order (measured: ~3.6 s against ~5.5 s of server
 * time per million keys). The caller sorts the store into canonical order. If
 * the budget is exceeded, the values are dropped and only the key names are
 * kept, sorted, for the two-pass path (keys first, then reads in order), so
 * memory stays bounded whatever the db's size.
 */
export async function scanAndRead(topo: Topology, pattern: Buffer | undefined, policy: ExpiryPolicy, o: ScanReadOptions = {}): Promise<ScanReadResult> {
  const budget = o.budgetBytes ?? 256 * 1024 * 1024;
  const depth = o.depth ?? 6;
  const store = new ValueStore();
  if (budget <= 0) store.dropValues();
  let scanned = 0;
  let size = 128;
  let seenKeys = 0;
  let seenBytes = 0;
  const inflight: Promise<void>[] = [];

  const absorb = (b: KeyBatch, page: OrderedKeys) => {
    seenKeys += b.to - b.from;
    seenBytes += b.bytes;
    size = Math.max(1, Math.min(2000, Math.floor((4 * 1024 * 1024) / Math.max(1, seenBytes / seenKeys))));
    if (!store.holdsValues) {
      // Read before the budget ran out, absorbed after: keep the names.
      for (let j = 0; j < b.kinds.length; j++) store.addKey(b.keys[j], page.slots[b.from + j]);
      return;
    }
    for (let j = 0; j < b.kinds.length; j++) store.add(b.keys[j], page.slots[b.from + j], b.kinds[j], b.expireAt[j], b.values[j]);
    if (store.bytes > budget) store.dropValues();
    o.onKeys?.(scanned, store.size);
  };

  await Promise.all(
    topo.nodes.map(async (node) => {
      const scan = (cursor: string) => {
        const b = new CommandBuilder();
        b.begin(pattern ? 6 : 4).str('SCAN').str(cursor);
        if (pattern) b.str('MATCH').buf(pattern);
        b.str('COUNT').num(SCAN_COUNT);
        return node.wire.send(b, { latin1: true });
      };
      let next = scan('0');
      for (;;) {
        const [reply] = await next;
        if (reply instanceof ReplyError) throw new RedisCommandError(node.address, 'SCAN', reply.message);
        const [cursor, raw] = reply as unknown as [string, (string | Buffer)[]];
        if (cursor !== '0') {
          o.signal?.throwIfAborted();
          next = scan(cursor);
          next.catch(() => undefined);
        }
        const page: OrderedKeys = { keys: new Array<string>(raw.length), slots: new Uint16Array(raw.length) };
        for (let i = 0; i < raw.length; i++) {
          // Keys of 64 KiB and more still arrive as Buffers.
          const key = typeof raw[i] === 'string' ? (raw[i] as string) : (raw[i] as Buffer).toString('latin1');
          page.keys[i] = key;
          page.slots[i] = keySlotLatin1(key);
          if (!store.holdsValues) store.addKey(key, page.slots[i]);
        }
        scanned += raw.length;
        for (let from = 0; store.holdsValues && from < raw.length; ) {
          while (inflight.length >= depth) await inflight.shift();
          if (!store.holdsValues) {
            // The budget ran out meanwhile: the rest of this page is listed by name only.
            for (let i = from; i < raw.length; i++) store.addKey(page.keys[i], page.slots[i]);
            break;
          }
          const to = Math.min(raw.length, from + size);
          const p = fetchBatch(topo, page, from, to, policy).then((b) => absorb(b, page));
          p.catch(() => undefined);
          inflight.push(p);
          from = to;
        }
        if (cursor === '0') break;
      }
    }),
  );
  await Promise.all(inflight);
  return store.holdsValues ? { store } : { keys: orderedKeys(store) };
}
