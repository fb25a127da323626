import { RedisWire, type WireParams } from './wire/connection';
import { CommandBuilder } from './wire/command-builder';
import { ReplyError, type Reply } from './wire/resp-parser';
import { SLOTS } from './slot';
import { RedisClusterError, RedisCommandError, RedisOptionsError, RedisUnreachableError } from './errors';
import type { RedisConnectionOptions } from './types';

/** One server we talk to: a standalone Redis or a cluster master. */
export interface RedisNode {
  readonly address: string;
  readonly wire: RedisWire;
  /** `redis_version` from INFO server (Valkey reports the Redis version it is compatible with, 7.2.4). */
  readonly version: string;
  /** For messages: `Redis 8.2.3`, `Valkey 8.1.8`. */
  readonly server: string;
}

/**
 * The server(s) behind a set of connection options. For a cluster, every
 * master with the slots it serves; for a standalone server, one node serving
 * every slot — so backup, restore and fingerprint run the same code for both.
 */
export interface Topology {
  readonly cluster: boolean;
  readonly nodes: RedisNode[];
  /** Slot → index in `nodes`. */
  readonly slotNode: Uint16Array;
  /** For messages: the url host:port or the seed list. */
  readonly address: string;
  /** Lowest `redis_version` among the nodes. */
  readonly version: string;
  close(): void;
}

interface Resolved {
  seeds: { host: string; port: number }[];
  cluster: boolean;
  params: Omit<WireParams, 'host' | 'port'>;
  /** db from the url path, if any. */
  urlDb?: number;
}

/** Validates and normalises options; nothing is contacted. */
export function resolveOptions(o: RedisConnectionOptions): Resolved {
  let host = '127.0.0.1';
  let port = 6379;
  let tls = o.tls;
  let username = o.username;
  let password = o.password;
  let urlDb: number | undefined;
  if (o.url !== undefined) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new RedisOptionsError('url', 'not a valid URL (expected redis://host:port[/db])');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
      throw new RedisOptionsError('url', `scheme "${u.protocol}" is not redis: or rediss:`);
    host = u.hostname.replace(/^\[(.*)\]$/, '$1') || host;
    port = u.port ? Number(u.port) : 6379;
    tls ??= u.protocol === 'rediss:';
    if (u.username) username ??= decodeURIComponent(u.username);
    if (u.password) password ??= decodeURIComponent(u.password);
    const path = u.pathname.replace(/^\//, '');
    if (path) {
      if (!/^\d+$/.test(path)) throw new RedisOptionsError('url', `path "/${path}" is not a db number`);
      urlDb = Number(path);
    }
  }
  if (o.db !== undefined && o.db !== 'all' && !(Number.isInteger(o.db) && o.db >= 0)) {
    throw new RedisOptionsError('db', `${String(o.db)} is not a db number (a non-negative integer) or 'all'`);
  }
  const cluster = !!o.cluster;
  if (cluster) {
    if (!o.cluster!.length) throw new RedisOptionsError('cluster', 'no seed nodes given');
    for (const s of o.cluster!) {
      if (!s.host || !Number.isInteger(s.port) || s.port <= 0 || s.port > 65535)
        throw new RedisOptionsError('cluster', `seed ${JSON.stringify(s)} is not {host, port}`);
    }
    const db = o.db ?? urlDb;
    if (db !== undefined && db !== 0 && db !== 'all')
      throw new RedisOptionsError('db', `a Redis Cluster only has db 0 (got ${db})`);
  }
  return {
    seeds: cluster ? o.cluster!.map((s) => ({ host: s.host, port: s.port })) : [{ host, port }],
    cluster,
    params: { tls: !!tls, username, password, connectTimeoutMs: o.connectTimeoutMs },
    urlDb,
  };
}

export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** Keys and volatile keys per db, from INFO keyspace. */
export async function keyspace(wire: RedisWire): Promise<Map<number, { keys: number; expires: number }>> {
  const info = parseInfo(String(await wire.call('INFO', 'keyspace')));
  const out = new Map<number, { keys: number; expires: number }>();
  for (const [k, v] of info) {
    const m = /^db(\d+)$/.exec(k);
    if (!m) continue;
    const f = Object.fromEntries(v.split(',').map((kv) => kv.split('=')));
    out.set(Number(m[1]), { keys: Number(f.keys ?? 0), expires: Number(f.expires ?? 0) });
  }
  return out;
}

/** `7.0.15` → 70015, for comparisons. */
export function versionNumber(v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => parseInt(x, 10) || 0);
  return a * 10000 + b * 100 + c;
}

async function serverVersion(wire: RedisWire): Promise<{ version: string; server: string; clusterEnabled: boolean }> {
  const info = parseInfo(String(await wire.call('INFO', 'server')));
  const cl = parseInfo(String(await wire.call('INFO', 'cluster')));
  const version = info.get('redis_version') ?? '0.0.0';
  const valkey = info.get('valkey_version');
  return {
    version,
    server: valkey ? `Valkey ${valkey}` : `Redis ${version}`,
    clusterEnabled: cl.get('cluster_enabled') === '1',
  };
}

/** Connects to the server, or to every master of the cluster, and learns versions and slot ownership. */
export async function openTopology(o: RedisConnectionOptions, signal?: AbortSignal): Promise<Topology> {
  const r = resolveOptions(o);
  const opened: RedisWire[] = [];
  const closeAll = () => opened.forEach((w) => w.close());
  try {
    if (!r.cluster) {
      const { host, port } = r.seeds[0];
      const wire = await RedisWire.connect({ ...r.params, host, port, signal });
      opened.push(wire);
      const { version, server, clusterEnabled } = await serverVersion(wire);
      if (clusterEnabled) {
        throw new RedisOptionsError(
          'url',
          `Redis at ${wire.address} is a Redis Cluster node: give the cluster seeds (the "cluster" option) so every master is included`,
        );
      }
      return {
        cluster: false,
        nodes: [{ address: wire.address, wire, version, server }],
        slotNode: new Uint16Array(SLOTS),
        address: wire.address,
        version,
        close: closeAll,
      };
    }
    const address = r.seeds.map((s) => `${s.host}:${s.port}`).join(',');
    let seed: RedisWire | undefined;
    let lastError: unknown;
    for (const s of r.seeds) {
      try {
        seed = await RedisWire.connect({ ...r.params, host: s.host, port: s.port, signal });
        break;
      } catch (e) {
        if (!(e instanceof RedisUnreachableError)) throw e;
        lastError = e;
      }
    }
    if (!seed)
      throw new RedisUnreachableError(address, `no seed node answers; last: ${(lastError as Error).message}`, {
        cause: lastError,
      });
    opened.push(seed);
    const slotsReply = await seed.send(newCmd('CLUSTER', 'SLOTS'));
    const ranges = slotsReply[0];
    if (ranges instanceof ReplyError) throw new RedisCommandError(seed.address, 'CLUSTER SLOTS', ranges.message);
    const slotNode = new Uint16Array(SLOTS).fill(0xffff);
    const addrs: { host: string; port: number }[] = [];
    const index = new Map<string, number>();
    const seedHost = seed.address.slice(0, seed.address.lastIndexOf(':'));
    for (const range of ranges as Reply[][]) {
      const [start, end, master] = range as [number, number, Reply[]];
      const mhost = String(master[0]) || seedHost;
      const mport = Number(master[1]);
      const key = `${mhost}:${mport}`;
      let idx = index.get(key);
      if (idx === undefined) {
        idx = addrs.length;
        index.set(key, idx);
        addrs.push({ host: mhost, port: mport });
      }
      for (let s = start; s <= end; s++) slotNode[s] = idx;
    }
    const uncovered = slotNode.indexOf(0xffff);
    if (uncovered >= 0)
      throw new RedisClusterError(
        address,
        `slot ${uncovered} is served by no master (cluster not fully set up, or failing over): retry when CLUSTER INFO says cluster_state:ok`,
        true,
      );
    const nodes: RedisNode[] = [];
    for (const a of addrs) {
      const addr = `${a.host}:${a.port}`;
      let wire: RedisWire;
      if (addr === seed.address) wire = seed;
      else {
        wire = await RedisWire.connect({ ...r.params, host: a.host, port: a.port, signal });
        opened.push(wire);
      }
      const { version, server } = await serverVersion(wire);
      nodes.push({ address: addr, wire, version, server });
    }
    if (!nodes.some((n) => n.wire === seed)) seed.close();
    const version = nodes.map((n) => n.version).sort((x, y) => versionNumber(x) - versionNumber(y))[0] ?? '0.0.0';
    return { cluster: true, nodes, slotNode, address, version, close: closeAll };
  } catch (e) {
    closeAll();
    throw e;
  }
}

function newCmd(...args: (string | number)[]): CommandBuilder {
  return new CommandBuilder().cmd(...args);
}

/** The db(s) to read: one number, or every non-empty db for 'all' (a cluster has only db 0). */
export async function dbsToRead(o: RedisConnectionOptions, topo: Topology): Promise<number[]> {
  const r = resolveOptions(o);
  const db = o.db ?? r.urlDb ?? 0;
  if (topo.cluster) return [0];
  if (db !== 'all') return [db];
  const ks = await keyspace(topo.nodes[0].wire);
  return [...ks.entries()]
    .filter(([, v]) => v.keys > 0)
    .map(([d]) => d)
    .sort((a, b) => a - b);
}
