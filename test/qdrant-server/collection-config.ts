import { jsonFormatError, unsupported, validationError } from './api-error';
import { DISTANCES, type Distance } from './vector-math';

/** One dense vector's parameters, echoed back as given (plus required size/distance). */
export interface VectorParams {
  size: number;
  distance: Distance;
  [extra: string]: unknown;
}

/** The collection configuration as persisted and as reported in CollectionInfo.config. */
export interface StoredConfig {
  /** true when created with `{"size":…, "distance":…}` rather than named vectors; its one vector is named "". */
  unnamed: boolean;
  vectors: Record<string, VectorParams>;
  params: {
    shard_number: number;
    replication_factor: number;
    write_consistency_factor: number;
    on_disk_payload: boolean;
  };
  hnsw_config: Record<string, unknown>;
  optimizer_config: Record<string, unknown>;
  wal_config: Record<string, unknown>;
  quantization_config: unknown;
  strict_mode_config: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

// Qdrant 1.19's defaults from config/config.yaml.
const HNSW_DEFAULT = { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false };
const OPTIMIZER_DEFAULT = {
  deleted_threshold: 0.2,
  vacuum_min_vector_number: 1000,
  default_segment_number: 0,
  max_segment_size: null,
  memmap_threshold: null,
  indexing_threshold: 10000,
  flush_interval_sec: 5,
  max_optimization_threads: null,
};
const WAL_DEFAULT = { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function positiveInt(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw jsonFormatError(`invalid value for \`${field}\`: expected an unsigned integer`);
  if (v < 1) throw validationError(`${field}: value ${v} invalid, must be 1 or larger`);
  return v;
}

function parseVectorParams(v: unknown, path: string): VectorParams {
  if (!isObject(v))
    throw jsonFormatError(`data did not match any variant of untagged enum VectorsConfig at \`${path}\``);
  if (typeof v.size !== 'number' || !Number.isInteger(v.size) || v.size < 0)
    throw jsonFormatError(`\`${path}.size\`: expected an unsigned integer`);
  if (v.size < 1) throw validationError(`${path}.size: value ${v.size} invalid, must be 1 or larger`);
  if (typeof v.distance !== 'string' || !DISTANCES.includes(v.distance)) {
    throw jsonFormatError(
      `unknown variant \`${String(v.distance)}\`, expected one of ${DISTANCES.map((d) => `\`${d}\``).join(', ')}`,
    );
  }
  if (v.multivector_config != null) throw unsupported('multivector_config');
  if (v.datatype != null && v.datatype !== 'float32') throw unsupported(`datatype ${JSON.stringify(v.datatype)}`);
  const out: VectorParams = { size: v.size, distance: v.distance as Distance };
  // Optional knobs do not change stored values here; keep them so the config round-trips.
  for (const k of ['hnsw_config', 'quantization_config', 'on_disk', 'datatype', 'memory']) {
    if (v[k] !== undefined && v[k] !== null) out[k] = v[k];
  }
  return out;
}

const isSingleVectorParams = (v: Record<string, unknown>) =>
  typeof v.size === 'number' && typeof v.distance === 'string';

/** Builds the stored config from a CreateCollection body (unknown fields are ignored, as serde does). */
export function configFromCreateBody(body: Record<string, unknown>): StoredConfig {
  let unnamed = false;
  const vectors: Record<string, VectorParams> = {};
  const v = body.vectors;
  if (v !== undefined && v !== null) {
    if (!isObject(v))
      throw jsonFormatError('data did not match any variant of untagged enum VectorsConfig at `vectors`');
    if (isSingleVectorParams(v)) {
      unnamed = true;
      vectors[''] = parseVectorParams(v, 'vectors');
    } else {
      for (const [name, params] of Object.entries(v)) vectors[name] = parseVectorParams(params, `vectors.${name}`);
    }
  }
  if (isObject(body.sparse_vectors) && Object.keys(body.sparse_vectors).length) throw unsupported('sparse_vectors');
  if (body.sharding_method != null && body.sharding_method !== 'auto')
    throw unsupported(`sharding_method ${JSON.stringify(body.sharding_method)}`);
  const diff = (x: unknown, name: string): Record<string, unknown> => {
    if (x === undefined || x === null) return {};
    if (!isObject(x)) throw jsonFormatError(`invalid type for \`${name}\`: expected an object`);
    return x;
  };
  return {
    unnamed,
    vectors,
    params: {
      shard_number: positiveInt(body.shard_number, 'shard_number', 1),
      replication_factor: positiveInt(body.replication_factor, 'replication_factor', 1),
      write_consistency_factor: positiveInt(body.write_consistency_factor, 'write_consistency_factor', 1),
      on_disk_payload: typeof body.on_disk_payload === 'boolean' ? body.on_disk_payload : true,
    },
    hnsw_config: { ...HNSW_DEFAULT, ...diff(body.hnsw_config, 'hnsw_config') },
    optimizer_config: { ...OPTIMIZER_DEFAULT, ...diff(body.optimizers_config, 'optimizers_config') },
    wal_config: { ...WAL_DEFAULT, ...diff(body.wal_config, 'wal_config') },
    quantization_config: body.quantization_config ?? null,
    strict_mode_config: { enabled: false, ...diff(body.strict_mode_config, 'strict_mode_config') },
    ...(isObject(body.metadata) ? { metadata: body.metadata } : {}),
  };
}

/** `params.vectors` as Qdrant prints it: a single VectorParams or a name → VectorParams map. */
export const vectorsOutput = (c: StoredConfig): unknown => (c.unnamed ? c.vectors[''] : c.vectors);

/** CollectionInfo.config */
export function configOutput(c: StoredConfig): Record<string, unknown> {
  return {
    params: { vectors: vectorsOutput(c), ...c.params },
    hnsw_config: c.hnsw_config,
    optimizer_config: c.optimizer_config,
    wal_config: c.wal_config,
    quantization_config: c.quantization_config,
    strict_mode_config: c.strict_mode_config,
    ...(c.metadata ? { metadata: c.metadata } : {}),
  };
}
