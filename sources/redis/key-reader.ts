import { CommandBuilder } from './wire/command-builder';
import * as resp from './wire/resp-parser';
import type { Reply } from './wire/resp-parser';
import { RedisClusterError, RedisCommandError } from './errors';
import type { OrderedKeys } from './keyspace';
import type { Topology } from './topology';

// Bound once: under tsx's CommonJS interop every use of an imported binding is a getter call, which shows in per-key loops.
const { ReplyError } = resp;

/**
 * Reads the values and expiries of a db's keys, batch by batch, in key order.
 *
 * Plain strings are read with MGET (one command per batch, or per slot in a
 * cluster) instead of one DUMP each: the value bytes are the whole logical
 * value of a string, and this cuts the server's per-key work roughly in half.
 * Keys MGET reports as nil (other types, or gone) are then DUMPed. Expiries
 * come from PEXPIRETIME (absolute, exact; Redis ≥ 7.0) or PTTL plus the
 * server's TIME — or are known to be none (see ExpiryPolicy). A key that is
 * gone by the time it is read (DUMP nil, expiry -2) is reported as vanished
 * and skipped — never an error.
 */
export const Kind = { vanished: 0, string: 1, dump: 2 } as const;

export interface KeyBatch {
  /** Index in OrderedKeys of the first key. */
  from: number;
  to: number;
  /** The batch's key names (latin1 strings). */
  keys: string[];
  kinds: Uint8Array;
  /** Value bytes (string) or DUMP payload, per key. */
  values: (Buffer | null)[];
  /** Absolute unix-ms expiry, 0 = none. */
  expireAt: Float64Array;
  bytes: number;
}

export type ExpiryMode = 'pexpiretime' | 'pttl';

/**
 * How expiries are read for one db. `skip` starts true when INFO keyspace
 * reports no volatile key in the db on any node: then no per-key expiry
 * command is sent (they cost the server as much as the value reads), and
 * instead each batch's reads are followed, on the same connection, by INFO
 * keyspace. Commands on a connection run in order, so if that INFO still
 * reports no volatile key, none of the keys just read had an expiry at that
 * moment; if it reports some, the batch's expiries are read after all and
 * `skip` is turned off for the rest of the db.
 */
export interface ExpiryPolicy {
  mode: ExpiryMode;
  skip: boolean;
  db: number;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Batches in flight at once. @default 6 */
  depth?: number;
  /** Most keys per batch. @default 2000 */
  maxBatch?: number;
  /** Aimed-for value bytes per batch; sizes adapt to it. @default 4 MiB */
  batchBytes?: number;
}

const REDIRECT = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

function replyFailure(address: string, command: string, e: resp.ReplyError): Error {
  if (REDIRECT.test(e.message)) {
    return new RedisClusterError(
      address,
      `slot ownership changed while reading (${command}: ${e.message}); retry once resharding or failover is over`,
      true,
    );
  }
  return new RedisCommandError(address, command, e.message);
}

interface NodePlan {
  node: number;
  /** Key indexes (absolute) this node serves in the batch, in order. */
  idx: number[];
}

function plan(topo: Topology, keys: OrderedKeys, from: number, to: number): NodePlan[] {
  if (!topo.cluster) {
    const idx = new Array<number>(to - from);
    for (let i = from; i < to; i++) idx[i - from] = i;
    return [{ node: 0, idx }];
  }
  const byNode = new Map<number, NodePlan>();
  for (let i = from; i < to; i++) {
    const n = topo.slotNode[keys.slots[i]];
    let p = byNode.get(n);
    if (!p) byNode.set(n, (p = { node: n, idx: [] }));
    p.idx.push(i);
  }
  return [...byNode.values()];
}

function volatileIn(info: Reply, db: number): number {
  const m = new RegExp(`^db${db}:.*\\bexpires=(\\d+)`, 'm').exec(
    Buffer.isBuffer(info) ? info.toString('latin1') : String(info),
  );
  return m ? Number(m[1]) : 0;
}

/** Reads keys[from, to): values (MGET, then DUMP for the rest) and expiries, in one or two round trips per master. */
async function fetchBatch(
  topo: Topology,
  keys: OrderedKeys,
  from: number,
  to: number,
  policy: ExpiryPolicy,
): Promise<KeyBatch> {
  const n = to - from;
  const kinds = new Uint8Array(n);
  const values: (Buffer | null)[] = new Array(n).fill(null);
  const expireAt = new Float64Array(n);
  // Set when an expiry read says the key is gone (-2); `kinds` starts at 0 = vanished for every key, so it cannot tell.
  const gone = new Uint8Array(n);
  const plans = plan(topo, keys, from, to);
  const k = keys.keys;
  const { mode } = policy;
  const skip = policy.skip;
  const ttlCmd = mode === 'pttl' ? 'PTTL' : 'PEXPIRETIME';
  let sawVolatile = false;

  /** Queues the expiry reads of `idx` (with TIME first in pttl mode). */
  const ttlCommands = (b: CommandBuilder, idx: number[]) => {
    if (mode === 'pttl') b.cmd('TIME');
    for (const i of idx) b.begin(2).str(ttlCmd).str(k[i]);
  };
  /** Reads the replies ttlCommands queued, from `r`; returns the next reply index. */
  const ttlReplies = (address: string, replies: Reply[], r: number, idx: number[]): number => {
    let now = 0;
    if (mode === 'pttl') {
      const t = replies[r++];
      if (t instanceof ReplyError) throw replyFailure(address, 'TIME', t);
      const [sec, usec] = t as Buffer[];
      now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    }
    for (const i of idx) {
      const t = replies[r++];
      if (t instanceof ReplyError) throw replyFailure(address, ttlCmd, t);
      const v = t as number;
      const j = i - from;
      if (v === -2) {
        kinds[j] = Kind.vanished;
        values[j] = null;
        gone[j] = 1;
      } else expireAt[j] = v === -1 ? 0 : mode === 'pttl' ? now + v : v;
    }
    return r;
  };

  // Phase A: MGET (per slot run in a cluster: multi-key commands must stay in one slot), then expiries or INFO.
  const phaseA = plans.map((p) => {
    const b = new CommandBuilder();
    const groups: [number, number][] = [];
    let start = 0;
    for (let j = 1; j <= p.idx.length; j++) {
      if (j === p.idx.length || (topo.cluster && keys.slots[p.idx[j]] !== keys.slots[p.idx[start]])) {
        b.begin(j - start + 1).str('MGET');
        for (let x = start; x < j; x++) b.str(k[p.idx[x]]);
        groups.push([start, j]);
        start = j;
      }
    }
    if (skip) b.cmd('INFO', 'keyspace');
    else ttlCommands(b, p.idx);
    return { groups, replies: topo.nodes[p.node].wire.send(b) };
  });
  const dumpNeeded: NodePlan[] = [];
  for (let pi = 0; pi < plans.length; pi++) {
    const p = plans[pi];
    const address = topo.nodes[p.node].address;
    const replies = await phaseA[pi].replies;
    let r = 0;
    for (const [s, e] of phaseA[pi].groups) {
      const got = replies[r++];
      if (got instanceof ReplyError) throw replyFailure(address, 'MGET', got);
      const arr = got as (Buffer | null)[];
      for (let x = s; x < e; x++) {
        const v = arr[x - s];
        values[p.idx[x] - from] = v;
        if (v !== null) kinds[p.idx[x] - from] = Kind.string;
      }
    }
    if (skip) {
      const info = replies[r++];
      if (info instanceof ReplyError) throw replyFailure(address, 'INFO', info);
      if (volatileIn(info, policy.db) > 0) sawVolatile = true;
    } else ttlReplies(address, replies, r, p.idx);
    const toDump: number[] = [];
    for (const i of p.idx) {
      const j = i - from;
      if (values[j] === null && !gone[j]) toDump.push(i);
    }
    if (toDump.length) dumpNeeded.push({ node: p.node, idx: toDump });
  }

  // Phase B: DUMP whatever MGET could not return.
  if (dumpNeeded.length) {
    const sent = dumpNeeded.map((p) => {
      const b = new CommandBuilder();
      for (const i of p.idx) b.begin(2).str('DUMP').str(k[i]);
      if (skip) b.cmd('INFO', 'keyspace');
      return topo.nodes[p.node].wire.send(b);
    });
    for (let pi = 0; pi < dumpNeeded.length; pi++) {
      const p = dumpNeeded[pi];
      const address = topo.nodes[p.node].address;
      const replies: Reply[] = await sent[pi];
      for (let x = 0; x < p.idx.length; x++) {
        const v = replies[x];
        if (v instanceof ReplyError) throw replyFailure(address, 'DUMP', v);
        const j = p.idx[x] - from;
        if (v === null) kinds[j] = Kind.vanished;
        else {
          kinds[j] = Kind.dump;
          values[j] = v as Buffer;
        }
      }
      if (skip) {
        const info = replies[p.idx.length];
        if (info instanceof ReplyError) throw replyFailure(address, 'INFO', info);
        if (volatileIn(info, policy.db) > 0) sawVolatile = true;
      }
    }
  }

  // Phase C: a volatile key appeared while this batch was read without expiries — read them now, and from now on.
  if (sawVolatile) {
    policy.skip = false;
    const live = plans.map((p) => ({
      node: p.node,
      idx: p.idx.filter((i) => kinds[i - from] !== Kind.vanished && !gone[i - from]),
    }));
    const sent = live.map((p) => {
      const b = new CommandBuilder();
      ttlCommands(b, p.idx);
      return topo.nodes[p.node].wire.send(b);
    });
    for (let pi = 0; pi < live.length; pi++)
      ttlReplies(topo.nodes[live[pi].node].address, await sent[pi], 0, live[pi].idx);
  }
  for (let j = 0; j < n; j++) {
    if (gone[j]) kinds[j] = Kind.vanished;
    if (kinds[j] === Kind.vanished) values[j] = null;
  }
  let bytes = 0;
  for (let j = 0; j < n; j++) if (values[j]) bytes += values[j]!.length;
  return { from, to, keys: keys.keys.slice(from, to), kinds, values, expireAt, bytes };
}

/**
 * Yields the db's keys in order, batch by batch, keeping `depth` batches in
 * flight so the server never waits on us; the consumer's pace (the backup
 * stream's backpressure) bounds what is held in memory. Batch sizes adapt to
 * value sizes: a batch aims at `batchBytes`, so big values come a few at a
 * time.
 */
export async function* readKeys(
  topo: Topology,
  keys: OrderedKeys,
  policy: ExpiryPolicy,
  o: ReadOptions = {},
): AsyncGenerator<KeyBatch> {
  const depth = o.depth ?? 6;
  const maxBatch = o.maxBatch ?? 2000;
  const target = o.batchBytes ?? 4 * 1024 * 1024;
  const total = keys.keys.length;
  let size = Math.min(128, maxBatch);
  let next = 0;
  let seenKeys = 0;
  let seenBytes = 0;
  const queue: Promise<KeyBatch>[] = [];
  const launch = () => {
    const from = next;
    const to = Math.min(total, from + size);
    next = to;
    const p = fetchBatch(topo, keys, from, to, policy);
    p.catch(() => undefined);
    queue.push(p);
  };
  while (next < total || queue.length) {
    o.signal?.throwIfAborted();
    while (next < total && queue.length < depth) launch();
    const batch = await queue.shift()!;
    seenKeys += batch.to - batch.from;
    seenBytes += batch.bytes;
    const avg = Math.max(1, seenBytes / seenKeys);
    size = Math.max(1, Math.min(maxBatch, Math.floor(target / avg)));
    yield batch;
  }
}
