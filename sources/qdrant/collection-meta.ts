import type { QdrantApi } from './api';
import { QdrantCollectionNotFoundError } from './errors';
import type { QdrantCollectionMeta, QdrantVectorSpec } from './types';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Drops null members (they mean "server default" in a create body, and older servers may not know them). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

const isSingleVectorParams = (v: Json) => typeof v.size === 'number' && typeof v.distance === 'string';

/** Vector name → size/distance from `params.vectors` (single or named form). */
export function vectorSpecs(vectors: unknown): { unnamed: boolean; specs: Record<string, QdrantVectorSpec> } {
  if (!isObject(vectors)) return { unnamed: false, specs: {} };
  if (isSingleVectorParams(vectors))
    return { unnamed: true, specs: { '': { size: vectors.size as number, distance: vectors.distance as string } } };
  const specs: Record<string, QdrantVectorSpec> = {};
  for (const [name, p] of Object.entries(vectors))
    if (isObject(p)) specs[name] = { size: Number(p.size), distance: String(p.distance) };
  return { unnamed: false, specs };
}

/** Turns CollectionInfo.config into a PUT /collections body that recreates the same settings. */
export function createBodyFromConfig(config: Json): Json {
  const params = (config.params ?? {}) as Json;
  const body: Json = {
    vectors: params.vectors,
    shard_number: params.shard_number,
    replication_factor: params.replication_factor,
    write_consistency_factor: params.write_consistency_factor,
    on_disk_payload: params.on_disk_payload,
    sharding_method: params.sharding_method,
    sparse_vectors: params.sparse_vectors,
    payload: params.payload,
    hnsw_config: config.hnsw_config,
    optimizers_config: config.optimizer_config,
    wal_config: config.wal_config,
    quantization_config: config.quantization_config,
    strict_mode_config: config.strict_mode_config,
  };
  const out = withoutNulls(body) as Json;
  // Application metadata is user data: keep it verbatim, nulls included.
  if (config.metadata !== undefined && config.metadata !== null) out.metadata = config.metadata;
  return out;
}

/** Resolves an alias to its collection (Qdrant resolves aliases itself, but snapshots and names must use the real one). */
export async function resolveCollection(
  api: QdrantApi,
  name: string,
): Promise<{ collection: string; viaAlias?: string; aliases: { alias_name: string; collection_name: string }[] }> {
  const { aliases } = await api.call('list aliases', (c) => c.getAliases());
  const hit = aliases.find((a) => a.alias_name === name);
  return hit ? { collection: hit.collection_name, viaAlias: name, aliases } : { collection: name, aliases };
}

/** Reads what a backup records about a collection; a missing one is QdrantCollectionNotFoundError. */
export async function readCollectionMeta(api: QdrantApi, name: string): Promise<QdrantCollectionMeta> {
  const { collection, viaAlias, aliases } = await resolveCollection(api, name);
  const info = await api.call('collection info', (c) => c.getCollection(collection), collection);
  const { count } = await api.call('count points', (c) => c.count(collection, { exact: true }), collection);
  const config = info.config as unknown as Json;
  const { unnamed, specs } = vectorSpecs((config.params as Json | undefined)?.vectors);
  return {
    collection,
    ...(viaAlias ? { resolvedFromAlias: viaAlias } : {}),
    createBody: createBodyFromConfig(config),
    vectors: specs,
    unnamedVector: unnamed,
    aliases: aliases
      .filter((a) => a.collection_name === collection)
      .map((a) => a.alias_name)
      .sort(),
    pointsCount: count,
  };
}

/** The target's vectors, or undefined when the collection does not exist. */
export async function targetVectors(
  api: QdrantApi,
  collection: string,
): Promise<Record<string, QdrantVectorSpec> | undefined> {
  const { exists } = await api.call('collection exists', (c) => c.collectionExists(collection), collection);
  if (!exists) return undefined;
  try {
    const info = await api.call('collection info', (c) => c.getCollection(collection), collection);
    return vectorSpecs(((info.config as unknown as Json).params as Json | undefined)?.vectors).specs;
  } catch (e) {
    // Dropped between the two calls: treat as absent.
    if (e instanceof QdrantCollectionNotFoundError) return undefined;
    throw e;
  }
}
