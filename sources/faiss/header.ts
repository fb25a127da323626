import { open } from 'node:fs/promises';
import { FaissCorruptFileError, FaissFileNotFoundError, FaissInvalidPathError } from './errors';
import { FileCursor } from './file-cursor';
import { FAISS_BINARY_INDEX_TYPES, FAISS_INDEX_TYPES, HEADER_PREFIX_BYTES } from './fourcc';
import { FAISS_METRICS, type FaissHeader, type FaissMetricName } from './types';

/** faiss writes these two int64 placeholders in every header, always 1 << 20. */
const HEADER_DUMMY = 1 << 20;
/** Far above any real embedding; a larger d means the header is garbage. */
const MAX_DIMENSION = 1 << 20;

/**
 * Reads the index header at the cursor (faiss index_write.cpp,
 * `write_index_header`): fourcc, [type-specific prefix], d int32,
 * ntotal int64, dummy int64 ×2, is_trained uint8, metric_type int32,
 * metric_arg float32 when metric_type > 1.
 */
export async function parseHeader(cur: FileCursor, role = 'index'): Promise<FaissHeader> {
  const at = cur.pos;
  if (cur.remaining < 4) {
    throw new FaissCorruptFileError(
      cur.path,
      'truncated',
      `the file has ${cur.remaining} bytes where a 4-byte index type code was expected`,
      at,
    );
  }
  const fourcc = await cur.fourcc(`${role} type code`);
  if (FAISS_BINARY_INDEX_TYPES[fourcc]) return parseBinaryHeader(cur, fourcc, role, at);
  const indexType = FAISS_INDEX_TYPES[fourcc];
  if (!indexType) {
    throw new FaissCorruptFileError(
      cur.path,
      'unknown-type',
      `${role} type code ${JSON.stringify(fourcc)} (bytes ${Buffer.from(fourcc, 'latin1').toString('hex')}) is not a FAISS float index type`,
      at,
    );
  }
  cur.skip(HEADER_PREFIX_BYTES[fourcc] ?? 0, `${fourcc} fields before the header`);
  const d = await cur.i32(`${fourcc} dimension`);
  const ntotal = await cur.u64(`${fourcc} ntotal`);
  const dummy1 = await cur.u64(`${fourcc} header`);
  const dummy2 = await cur.u64(`${fourcc} header`);
  const trained = await cur.u8(`${fourcc} is_trained`);
  const metricType = await cur.i32(`${fourcc} metric_type`);
  if (d <= 0 || d > MAX_DIMENSION)
    throw new FaissCorruptFileError(cur.path, 'inconsistent', `${role} ${fourcc} has dimension ${d}`, at);
  if (dummy1 !== HEADER_DUMMY || dummy2 !== HEADER_DUMMY || trained > 1) {
    throw new FaissCorruptFileError(cur.path, 'inconsistent', `${role} ${fourcc} header has damaged fixed fields`, at);
  }
  const metric = (FAISS_METRICS as Record<number, FaissMetricName>)[metricType];
  if (!metric)
    throw new FaissCorruptFileError(
      cur.path,
      'inconsistent',
      `${role} ${fourcc} has unknown metric type ${metricType}`,
      at,
    );
  const header: FaissHeader = { fourcc, indexType, d, ntotal, isTrained: trained === 1, metricType, metric };
  if (metricType > 1) header.metricArg = await cur.f32(`${fourcc} metric_arg`);
  return header;
}

/**
 * The header of a binary index, after its fourcc (index_write.cpp,
 * `write_index_binary_header`): d int32 (bits), code_size int32,
 * ntotal int64, is_trained uint8, metric_type int32.
 */
async function parseBinaryHeader(cur: FileCursor, fourcc: string, role: string, at: number): Promise<FaissHeader> {
  const d = await cur.i32(`${fourcc} dimension`);
  const codeSize = await cur.i32(`${fourcc} code_size`);
  const ntotal = await cur.u64(`${fourcc} ntotal`);
  const trained = await cur.u8(`${fourcc} is_trained`);
  const metricType = await cur.i32(`${fourcc} metric_type`);
  if (d <= 0 || d > MAX_DIMENSION || d % 8 !== 0)
    throw new FaissCorruptFileError(
      cur.path,
      'inconsistent',
      `${role} ${fourcc} has dimension ${d} bits (must be a positive multiple of 8)`,
      at,
    );
  if (codeSize !== d / 8)
    throw new FaissCorruptFileError(
      cur.path,
      'inconsistent',
      `${role} ${fourcc} has code size ${codeSize} bytes for ${d} bits (expected ${d / 8})`,
      at,
    );
  if (trained > 1)
    throw new FaissCorruptFileError(cur.path, 'inconsistent', `${role} ${fourcc} header has damaged fixed fields`, at);
  const metric = (FAISS_METRICS as Record<number, FaissMetricName>)[metricType];
  if (!metric)
    throw new FaissCorruptFileError(
      cur.path,
      'inconsistent',
      `${role} ${fourcc} has unknown metric type ${metricType}`,
      at,
    );
  return {
    fourcc,
    indexType: FAISS_BINARY_INDEX_TYPES[fourcc] ?? fourcc,
    d,
    ntotal,
    isTrained: trained === 1,
    metricType,
    metric,
    binary: { codeSize },
  };
}

/** The header recorded for a file of unknown type, backed up as opaque bytes. */
export function opaqueHeader(firstBytes: Buffer, warning: string): FaissHeader {
  return {
    fourcc: firstBytes.subarray(0, 4).toString('latin1'),
    indexType: 'unknown',
    d: 0,
    ntotal: 0,
    isTrained: false,
    metricType: -1,
    metric: 'unknown',
    opaque: { warning },
  };
}

/**
 * Opens `path` and parses only its header (under 64 bytes read), without
 * faiss. Throws FaissFileNotFoundError, FaissInvalidPathError (not a regular
 * file) or FaissCorruptFileError.
 */
export async function readFaissHeader(path: string): Promise<FaissHeader> {
  const fh = await openIndexFile(path);
  try {
    const { size } = await fh.stat();
    return await parseHeader(new FileCursor(fh, size, path));
  } finally {
    await fh.close();
  }
}

/** Opens a regular file for reading, mapping ENOENT and friends to the adapter's errors. */
export async function openIndexFile(path: string) {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FaissFileNotFoundError(path, { cause: e });
    if (code === 'EACCES' || code === 'EPERM')
      throw new FaissInvalidPathError(path, 'cannot be read by the Lifeboat worker (permission denied)');
    throw e;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new FaissInvalidPathError(path, 'is not a regular file');
  }
  return fh;
}

/** The header fields that must match between a backup and its restore. */
export function headerDifferences(expected: FaissHeader, actual: FaissHeader): string[] {
  const out: string[] = [];
  for (const k of ['fourcc', 'd', 'ntotal', 'isTrained', 'metricType', 'metricArg'] as const) {
    const a = expected[k];
    const b = actual[k];
    if (a !== b && !(Number.isNaN(a) && Number.isNaN(b)))
      out.push(`${k} ${JSON.stringify(b)} instead of ${JSON.stringify(a)}`);
  }
  return out;
}
