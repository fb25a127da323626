import type { RedisWire } from './wire/connection';
import { ReplyError } from './wire/resp-parser';
import { versionNumber, type Topology } from './topology';
import type { LogicalValue } from './rdb/value';

/**
 * Cross-version restore. RESTORE refuses a DUMP payload whose RDB version is
 * newer than the server's own ("DUMP payload version or checksum are wrong"),
 * so a Redis 8.2 backup cannot be RESTOREd into Redis 7.0 or Valkey 8.1. Such
 * keys are rebuilt instead with type-specific commands (as RIOT's `--struct`
 * mode does), from the value the adapter decodes out of the payload itself
 * (rdb/value.ts: every list, set, sorted set, hash and string encoding).
 *
 * Why decode ourselves rather than RESTORE into a scratch server of the
 * source's version and read it back: the decoder already exists (digests
 * need it), it works where the worker has no redis-server of that version
 * (the point's source may be newer than anything installed), it needs no
 * process, port or memory for a copy of the data, and it streams key by key.
 */

export interface TargetCapabilities {
  /** `Redis 7.0.15`, `Valkey 8.1.8`. */
  server: string;
  /** Newest RDB version RESTORE accepts. */
  maxRdb: number;
  /** HPEXPIREAT exists (Redis ≥ 7.4): hash fields can carry TTLs. */
  fieldTtls: boolean;
  /** VADD exists (Redis ≥ 8.0, or the vectorset module loaded). */
  vectorSets: boolean;
}

/**
 * RDB version a server writes and accepts, from its INFO server: Redis 7.0 →
 * 10, 7.2 → 11, 7.4 and 8.x → 12; Valkey 7.2 and 8.x → 11 (it reports
 * redis_version 7.2.4, plus valkey_version). Older Redis: 9.
 */
export function rdbVersionAccepted(redisVersion: string, valkeyVersion?: string): number {
  if (valkeyVersion) return versionNumber(valkeyVersion) >= 90000 ? 80 : 11;
  const v = versionNumber(redisVersion);
  if (v >= 70400) return 12;
  if (v >= 70200) return 11;
  if (v >= 70000) return 10;
  return 9;
}

/** Reads what a target can take: its RDB version, and whether the commands field TTLs and vector sets need exist. */
export async function targetCapabilities(
  wire: RedisWire,
  redisVersion: string,
  server: string,
): Promise<TargetCapabilities> {
  const valkey = /^Valkey (\S+)/.exec(server)?.[1];
  let fieldTtls = false;
  let vectorSets = false;
  try {
    const r = await wire.call('COMMAND', 'INFO', 'HPEXPIREAT', 'VADD');
    if (Array.isArray(r)) {
      fieldTtls = r[0] !== null && !(r[0] instanceof ReplyError);
      vectorSets = r[1] !== null && !(r[1] instanceof ReplyError);
    }
  } catch {
    // COMMAND INFO renamed away or refused: assume neither (the conservative answer).
  }
  return { server, maxRdb: rdbVersionAccepted(redisVersion, valkey), fieldTtls, vectorSets };
}

/**
 * The newest RDB version whose encodings the decoder knows (Redis 7.4–8.x). A
 * payload of a newer version is never rebuilt: its type bytes may mean
 * something else there. It is RESTOREd as is (and refused by an older target).
 */
export const NEWEST_KNOWN_RDB = 12;

/** Whether a payload must be rebuilt for this target (newer than it reads, but one we can decode). */
export function mustRebuild(payload: Buffer, caps: TargetCapabilities): boolean {
  if (payload.length < 11) return false;
  const v = payload.readUInt16LE(payload.length - 10);
  return v > caps.maxRdb && v <= NEWEST_KNOWN_RDB;
}

/** What every master of the topology can take (the lowest RDB version, features all of them have). */
export async function topologyCapabilities(topo: Topology): Promise<TargetCapabilities> {
  const all = await Promise.all(topo.nodes.map((n) => targetCapabilities(n.wire, n.version, n.server)));
  return all.reduce((a, b) => ({
    server: a.maxRdb <= b.maxRdb ? a.server : b.server,
    maxRdb: Math.min(a.maxRdb, b.maxRdb),
    fieldTtls: a.fieldTtls && b.fieldTtls,
    vectorSets: a.vectorSets && b.vectorSets,
  }));
}

/** Why a decoded value cannot be rebuilt on the target, or undefined when it can. */
export function rebuildProblem(v: LogicalValue, caps: TargetCapabilities): string | undefined {
  switch (v.kind) {
    case 'string':
    case 'list':
    case 'set':
    case 'zset':
      return undefined;
    case 'hash':
      return v.expires?.some((e) => e > 0) && !caps.fieldTtls
        ? 'a hash with per-field TTLs (the target has no HPEXPIREAT: Redis ≥ 7.4 does)'
        : undefined;
    case 'vectorset':
      // Quantised vectors cannot be fed back through VADD exactly; a server with vector sets reads 8.x payloads anyway.
      return caps.vectorSets
        ? 'a vector set whose payload is newer than the target reads (quantised vectors cannot be rebuilt exactly)'
        : 'a vector set (the target has no vector sets: Redis ≥ 8.0 does)';
    case 'opaque':
      if (v.module) return `a value of module type ${v.module}`;
      if (v.rdbType === 15 || v.rdbType === 19 || v.rdbType === 21) return 'a stream (not rebuilt across versions yet)';
      return `RDB type ${v.rdbType}`;
  }
}

export type Command = (string | number | Buffer)[];

/** Most elements per command of a rebuild, so no single command (or reply) gets large. */
const CHUNK = 512;

function chunked(head: Command, items: Command[], per = CHUNK): Command[] {
  const out: Command[] = [];
  for (let i = 0; i < items.length; i += per) out.push([...head, ...items.slice(i, i + per).flat()]);
  return out;
}

/** A score as Redis parses it back exactly (shortest round-trip form; infinities as inf). */
function score(x: number): string {
  if (x === Infinity) return '+inf';
  if (x === -Infinity) return '-inf';
  return String(x);
}

/**
 * Commands that rebuild `key` with value `v` and absolute expiry `expireAt`
 * (0 = none): DEL first when replacing, the type's write commands, then
 * PEXPIREAT. Call rebuildProblem first. `v` must not be opaque.
 */
export function rebuildCommands(key: Buffer, expireAt: number, v: LogicalValue, replace: boolean): Command[] {
  const out: Command[] = replace ? [['DEL', key]] : [];
  switch (v.kind) {
    case 'string':
      out.push(['SET', key, v.value]);
      break;
    case 'list':
      out.push(
        ...chunked(
          ['RPUSH', key],
          v.items.map((x) => [x]),
        ),
      );
      break;
    case 'set':
      out.push(
        ...chunked(
          ['SADD', key],
          v.members.map((x) => [x]),
        ),
      );
      break;
    case 'zset':
      out.push(
        ...chunked(
          ['ZADD', key],
          v.members.map((m, i) => [score(v.scores[i]), m]),
        ),
      );
      break;
    case 'hash': {
      out.push(
        ...chunked(
          ['HSET', key],
          v.fields.map((f, i) => [f, v.values[i]]),
        ),
      );
      // Fields sharing an expiry get it in one command.
      const byTime = new Map<number, Buffer[]>();
      v.expires?.forEach((t, i) => {
        if (t > 0) byTime.set(t, [...(byTime.get(t) ?? []), v.fields[i]]);
      });
      for (const [t, fields] of byTime)
        for (let i = 0; i < fields.length; i += CHUNK) {
          const part = fields.slice(i, i + CHUNK);
          out.push(['HPEXPIREAT', key, t, 'FIELDS', part.length, ...part]);
        }
      break;
    }
    case 'vectorset':
    case 'opaque':
      throw new Error(`a ${v.kind} value cannot be rebuilt`);
  }
  if (expireAt > 0) out.push(['PEXPIREAT', key, expireAt]);
  return out;
}
