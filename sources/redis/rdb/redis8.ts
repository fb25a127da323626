import type { Reader } from './reader';

/**
 * RDB encodings Redis 7.4–8.x added, decoded into encoding-free form:
 *
 * - hashes with per-field expirations (HEXPIRE): RDB types 24 (hash table,
 *   `HASH_METADATA`) and 25 (listpack, `HASH_LISTPACK_EX`);
 * - module values (RDB type 7, `MODULE_2`), and among them the vector set of
 *   Redis 8 (`VADD`; module type `vectorset`, encoding version 0).
 *
 * docs/redis-format.md describes the bytes.
 */

/** Module value opcodes (rdb.h RDB_MODULE_OPCODE_*). */
const Op = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;

const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A module type id (64 bits: 9 name characters of 6 bits, then a 10-bit encoding version). */
export function moduleTypeName(id: bigint): { name: string; encver: number } {
  let name = '';
  for (let i = 0; i < 9; i++) name += MODULE_CHARSET[Number((id >> BigInt(64 - 6 * (i + 1))) & 63n)];
  return { name, encver: Number(id & 1023n) };
}

/** Reads an RDB length as a bigint (module ids use all 64 bits). */
function bigLen(r: Reader): bigint {
  const first = r.b[r.pos];
  if (first === 0x81) {
    r.pos++;
    r.need(8);
    const v = r.b.readBigUInt64BE(r.pos);
    r.pos += 8;
    return v;
  }
  return BigInt(r.count());
}

/** Unsigned items stay bigints: a vector set packs two floats into one 64-bit parameter. */
export type ModuleItem =
  { op: 'uint' | 'sint'; v: bigint } | { op: 'float' | 'double'; v: number } | { op: 'string'; v: Buffer };

/** The opcode-tagged items of a module value, up to its EOF opcode. */
export function moduleItems(r: Reader): ModuleItem[] {
  const out: ModuleItem[] = [];
  for (;;) {
    const op = r.count();
    if (op === Op.EOF) return out;
    if (op === Op.UINT || op === Op.SINT) out.push({ op: op === Op.UINT ? 'uint' : 'sint', v: bigLen(r) });
    else if (op === Op.FLOAT) out.push({ op: 'float', v: r.bytes(4).readFloatLE(0) });
    else if (op === Op.DOUBLE) out.push({ op: 'double', v: r.bytes(8).readDoubleLE(0) });
    else if (op === Op.STRING) out.push({ op: 'string', v: r.string() });
    else throw new Error(`unknown module opcode ${op}`);
  }
}

/** One element of a vector set: its name, JSON attributes ('' = none), stored (quantised) vector and its l2/range word. */
export interface VectorSetElement {
  element: Buffer;
  attributes: Buffer;
  vector: Buffer;
  /** The node's last serialised parameter: l2 norm and quantisation range (two floats). */
  norm: bigint;
}

export interface VectorSetValue {
  kind: 'vectorset';
  dim: number;
  /** 0 NOQUANT (fp32), 1 Q8, 2 BIN (hnsw.h HNSW_QUANT_*). */
  quant: number;
  /** HNSW M. */
  m: number;
  /** Input dimension of the REDUCE projection (0 = none) and its matrix (fp32). */
  projInputDim: number;
  projMatrix: Buffer;
  /** In the set's internal order (a digest sorts them). */
  elements: VectorSetElement[];
}

export const QUANT_NAMES = ['NOQUANT', 'Q8', 'BIN'] as const;

/**
 * A vector set's module value (vset.c VectorSetRdbSave, encoding version 0):
 * dim, count, config (quant type | M << 8), flags (1 projection, 2 attributes),
 * [projection input dim, matrix], then per element: name, [attributes],
 * vector bytes, parameter count and parameters (node id, layers and their
 * links — the HNSW graph, rebuilt differently by every load, so not part of
 * the value — and last the l2/range word).
 */
function vectorSet(items: ModuleItem[]): VectorSetValue {
  let i = 0;
  const big = (): bigint => {
    const it = items[i++];
    if (!it || it.op !== 'uint') throw new Error('vector set: expected an unsigned');
    return it.v;
  };
  const uint = () => Number(big());
  const str = (): Buffer => {
    const it = items[i++];
    if (!it || it.op !== 'string') throw new Error('vector set: expected a string');
    return it.v;
  };
  const dim = uint();
  const count = uint();
  const config = uint();
  const flags = uint();
  let projInputDim = 0;
  let projMatrix: Buffer = Buffer.alloc(0);
  if (flags & 1) {
    projInputDim = uint();
    projMatrix = str();
  }
  const elements: VectorSetElement[] = new Array(count);
  for (let e = 0; e < count; e++) {
    const element = str();
    const attributes = flags & 2 ? str() : Buffer.alloc(0);
    const vector = str();
    const n = uint();
    let last = 0n;
    for (let p = 0; p < n; p++) last = big();
    elements[e] = { element, attributes, vector, norm: last };
  }
  if (i !== items.length) throw new Error('vector set: trailing module items');
  return {
    kind: 'vectorset',
    dim,
    quant: config & 0xff,
    m: (config >> 8) & 0xffff,
    projInputDim,
    projMatrix,
    elements,
  };
}

export type ModuleValue = VectorSetValue | { kind: 'module'; name: string; encver: number };

/** A MODULE_2 value: a vector set decoded, any other module named (its bytes stay opaque). */
export function decodeModule(r: Reader): ModuleValue {
  const { name, encver } = moduleTypeName(bigLen(r));
  if (name !== 'vectorset' || encver !== 0) return { kind: 'module', name, encver };
  return vectorSet(moduleItems(r));
}

/** Only the module's type name, without reading its value. */
export function moduleNameOf(r: Reader): string {
  return moduleTypeName(bigLen(r)).name;
}

/** 8-byte little-endian unix-ms time (rdbSaveMillisecondTime). */
function millis(r: Reader): number {
  return Number(r.bytes(8).readBigInt64LE(0));
}

/**
 * HASH_METADATA (24): min expiry (ms), field count, then per field its TTL as
 * a length (0 = none, else absolute ms − min expiry + 1), field, value.
 */
export function hashMetadata(r: Reader): { fields: Buffer[]; values: Buffer[]; expires: number[] } {
  const min = millis(r);
  const n = r.count();
  const fields: Buffer[] = new Array(n);
  const values: Buffer[] = new Array(n);
  const expires: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const ttl = r.count();
    expires[i] = ttl === 0 ? 0 : ttl + min - 1;
    fields[i] = r.string();
    values[i] = r.string();
  }
  return { fields, values, expires };
}

/** HASH_LISTPACK_EX (25): min expiry (ms), then a listpack of field, value, absolute expiry ms (0 = none) triples. */
export function hashListpackEx(
  r: Reader,
  entries: (lp: Buffer) => Buffer[],
): { fields: Buffer[]; values: Buffer[]; expires: number[] } {
  millis(r);
  const flat = entries(r.string());
  if (flat.length % 3) throw new Error('listpack-ex hash: entries not in triples');
  const n = flat.length / 3;
  const fields: Buffer[] = new Array(n);
  const values: Buffer[] = new Array(n);
  const expires: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    fields[i] = flat[3 * i];
    values[i] = flat[3 * i + 1];
    expires[i] = Number(flat[3 * i + 2].toString('latin1'));
  }
  return { fields, values, expires };
}
