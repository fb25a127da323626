import { CommandBuilder } from './wire/command-builder';
import * as resp from './wire/resp-parser';
import { dumpTrailer } from './rdb/crc64';
import {
  RedisBackupFormatError,
  RedisBusyKeyError,
  RedisClusterError,
  RedisIncompatibleDumpError,
  RedisRestoreRejectedError,
  printableKey,
} from './errors';
import { keySlot } from './slot';
import type { Topology } from './topology';
import type { Command } from './compat';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { ReplyError } = resp;

/** One key to write (a decoded key record as is: no copy per key). */
export interface RestoreEntry {
  key: Buffer;
  dump: boolean;
  /** Absolute unix ms, 0 = none. */
  expireAt: number;
  value: Buffer;
  /** Stream offset of its record, for error messages. */
  offset: number;
  /** Set when the target cannot RESTORE this payload (newer RDB version): the commands that rebuild the key instead. */
  rebuild?: Command[];
}

export interface BatchContext {
  topo: Topology;
  /** Target db (for messages). */
  db: number;
  replace: boolean;
  /** Target understands SET … PXAT (Redis ≥ 6.2). */
  pxat: boolean;
  /** Server clock estimate, unix ms. */
  now: () => number;
}

const Cmd = { mset: 0, set: 1, setnx: 2, restore: 3, rebuild: 4 } as const;
type CmdKind = (typeof Cmd)[keyof typeof Cmd];

/**
 * Writes a batch of keys: strings without expiry as MSET (one per batch, or
 * per slot in a cluster), other strings as SET … PXAT, everything else as
 * RESTORE key abs-expiry payload [REPLACE] ABSTTL. One pipeline per master;
 * the promise settles when every reply is in and checked, and rejects with
 * the first problem, naming the key.
 */
export async function writeBatch(ctx: BatchContext, entries: RestoreEntry[]): Promise<void> {
  const { topo } = ctx;
  const perNode = new Map<number, number[]>();
  const slots = topo.cluster ? entries.map((e) => keySlot(e.key)) : undefined;
  if (!slots)
    perNode.set(
      0,
      Array.from({ length: entries.length }, (_, i) => i),
    );
  else {
    for (let i = 0; i < entries.length; i++) {
      const n = topo.slotNode[slots[i]];
      const list = perNode.get(n);
      if (list) list.push(i);
      else perNode.set(n, [i]);
    }
  }
  if (!ctx.replace) await refuseExisting(ctx, entries, perNode);
  const sent = [...perNode].map(([node, idx]) => {
    const b = new CommandBuilder();
    const kinds: CmdKind[] = [];
    const first: number[] = [];
    const plain: number[] = [];
    for (const i of idx) {
      const e = entries[i];
      if (e.rebuild) {
        for (const c of e.rebuild) {
          b.cmd(...c);
          kinds.push(Cmd.rebuild);
          first.push(i);
        }
      } else if (e.dump) {
        b.begin(ctx.replace ? 6 : 5)
          .str('RESTORE')
          .buf(e.key)
          .num(e.expireAt)
          .buf(e.value);
        if (ctx.replace) b.str('REPLACE');
        b.str('ABSTTL');
        kinds.push(Cmd.restore);
        first.push(i);
      } else if (ctx.replace && !e.expireAt) {
        plain.push(i);
      } else {
        const args: (string | number | Buffer)[] = ['SET', e.key, e.value];
        if (!ctx.replace) args.push('NX');
        if (e.expireAt) {
          if (ctx.pxat) args.push('PXAT', e.expireAt);
          else args.push('PX', Math.max(1, e.expireAt - ctx.now()));
        }
        b.cmd(...args);
        kinds.push(ctx.replace ? Cmd.set : Cmd.setnx);
        first.push(i);
      }
    }
    // MSET takes keys of one slot only in a cluster; entries arrive slot-ordered, so runs are contiguous.
    let start = 0;
    for (let j = 1; j <= plain.length; j++) {
      if (j === plain.length || (slots && slots[plain[j]] !== slots[plain[start]])) {
        b.begin(1 + 2 * (j - start)).str('MSET');
        for (let x = start; x < j; x++) b.buf(entries[plain[x]].key).buf(entries[plain[x]].value);
        kinds.push(Cmd.mset);
        first.push(plain[start]);
        start = j;
      }
    }
    return { node, kinds, first, replies: topo.nodes[node].wire.send(b) };
  });
  let failure: Error | undefined;
  for (const s of sent) {
    const replies = await s.replies.catch((e: Error) => {
      failure ??= e;
      return undefined;
    });
    if (!replies) continue;
    const node = topo.nodes[s.node];
    for (let c = 0; c < replies.length && !failure; c++) {
      const r = replies[c];
      const e = entries[s.first[c]];
      if (r instanceof ReplyError) failure = restoreFailure(ctx, node.address, node.server, e, r.message);
      else if (r === null && s.kinds[c] === Cmd.setnx)
        failure = new RedisBusyKeyError(printableKey(e.key), ctx.db, node.address);
    }
  }
  if (failure) throw failure;
}

/** Without REPLACE a rebuilt key must not merge into an existing one: RESTORE would say BUSYKEY, so say it first. */
async function refuseExisting(
  ctx: BatchContext,
  entries: RestoreEntry[],
  perNode: Map<number, number[]>,
): Promise<void> {
  for (const [node, idx] of perNode) {
    const rebuilt = idx.filter((i) => entries[i].rebuild);
    if (!rebuilt.length) continue;
    const b = new CommandBuilder();
    for (const i of rebuilt) b.cmd('EXISTS', entries[i].key);
    const replies = await ctx.topo.nodes[node].wire.send(b);
    const at = replies.findIndex((r) => r === 1);
    if (at >= 0)
      throw new RedisBusyKeyError(printableKey(entries[rebuilt[at]].key), ctx.db, ctx.topo.nodes[node].address);
  }
}

function restoreFailure(ctx: BatchContext, address: string, server: string, e: RestoreEntry, reply: string): Error {
  const key = printableKey(e.key);
  if (reply.startsWith('BUSYKEY')) return new RedisBusyKeyError(key, ctx.db, address);
  if (/^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(reply)) {
    return new RedisClusterError(
      address,
      `slot ownership changed while restoring key ${key} (${reply}); retry once resharding or failover is over`,
      true,
    );
  }
  if (e.dump && /payload version or checksum/i.test(reply)) {
    const t = dumpTrailer(e.value);
    if (t?.checksumOk) return new RedisIncompatibleDumpError(key, t.rdbVersion, server, address);
    return new RedisBackupFormatError(e.offset, `the DUMP payload of key ${key} fails its checksum (corrupt backup)`);
  }
  return new RedisRestoreRejectedError(key, ctx.db, address, reply);
}
