/**
 * Seeding and reading Redis 8 data types with an independent client (ioredis):
 * vector sets and hashes with per-field TTLs.
 */
import type { Redis } from 'ioredis';

/** Deterministic pseudo-random floats (mulberry32), so runs are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

const fp32 = (v: number[]) => Buffer.from(new Float32Array(v).buffer);

/**
 * Four vector sets of 300 elements each: Q8, BIN and NOQUANT at dim 16, and a
 * NOQUANT set with a REDUCE 32 → 8 projection. Every third element has JSON
 * attributes. Returns the keys.
 */
export async function seedVectorSets(r: Redis, p: string, elements = 300): Promise<string[]> {
  const specs: { key: string; opts: string[]; dim: number }[] = [
    { key: `${p}q8`, opts: ['Q8'], dim: 16 },
    { key: `${p}bin`, opts: ['BIN'], dim: 16 },
    { key: `${p}noquant`, opts: ['NOQUANT'], dim: 16 },
  ];
  const reduced = { key: `${p}reduced`, dim: 32 };
  const next = rng(42);
  for (const sp of [...specs, { ...reduced, opts: ['NOQUANT'] }]) {
    const pipe = r.pipeline();
    for (let i = 0; i < elements; i++) {
      const v = Array.from({ length: sp.dim }, () => next());
      const args: (string | Buffer)[] = [sp.key];
      if (sp.key === reduced.key) args.push('REDUCE', '8');
      args.push('FP32', fp32(v), `el-${i}`, ...sp.opts);
      if (i % 3 === 0) args.push('SETATTR', JSON.stringify({ i, tag: `t${i % 5}`, name: `élément ${i}` }));
      pipe.call('VADD', ...args);
    }
    for (const [e] of (await pipe.exec())!) if (e) throw e;
  }
  return [...specs.map((x) => x.key), reduced.key];
}

/** Everything a vector set means, read with vector-set commands: elements, embeddings, attributes, VINFO, VSIM. */
export async function vectorSetState(r: Redis, key: string): Promise<Record<string, unknown>> {
  const card = Number(await r.call('VCARD', key));
  const elements = ((await r.call('VRANDMEMBER', key, String(card))) as string[]).sort();
  const pipe = r.pipeline();
  for (const e of elements) pipe.call('VEMB', key, e).call('VGETATTR', key, e);
  const replies = (await pipe.exec())!.map(([e, v]) => {
    if (e) throw e;
    return v;
  });
  const emb: Record<string, unknown> = {};
  elements.forEach((e, i) => (emb[e] = { vemb: replies[2 * i], attr: replies[2 * i + 1] }));
  const infoFlat = (await r.call('VINFO', key)) as unknown[];
  const info: Record<string, unknown> = {};
  for (let i = 0; i < infoFlat.length; i += 2) info[String(infoFlat[i])] = infoFlat[i + 1];
  const quant = String(info['quant-type']);
  const out: Record<string, unknown> = {
    card,
    elements: emb,
    quant,
    dim: info['vector-dim'],
    expireAt: Number(await r.call('PEXPIRETIME', key)),
  };
  // With BIN quantisation ties reorder VSIM results even across a raw DUMP/RESTORE on Redis itself.
  if (!/bin/i.test(quant)) {
    const sims: unknown[] = [];
    for (const q of elements.slice(0, 5)) sims.push(await r.call('VSIM', key, 'ELE', q, 'COUNT', '10', 'WITHSCORES'));
    out.vsim = sims;
  }
  return out;
}

/**
 * Two hashes with per-field TTLs: a small one (listpack encoding) and one of
 * 1000 fields (hash table); some fields with TTLs, some without. Returns the keys.
 */
export async function seedFieldTtlHashes(r: Redis, p: string): Promise<string[]> {
  const small = `${p}small`;
  const big = `${p}big`;
  const now = Date.now();
  await r.hset(small, { 'f-0': 'a', 'f-1': 'b', 'f-2': 'c', n: '42' });
  await r.call('HPEXPIREAT', small, String(now + 3_600_123), 'FIELDS', '2', 'f-0', 'n');
  await r.hset(big, Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f-${i}`, `value-${i}`])));
  for (let i = 0; i < 1000; i += 7)
    await r.call('HPEXPIREAT', big, String(now + 7_200_000 + i * 1013), 'FIELDS', '1', `f-${i}`);
  return [small, big];
}
