import { QdrantApi } from './api';
import { QdrantAliasConflictError, QdrantRequestError } from './errors';
import type { QdrantConnection } from './types';

/**
 * Points `alias` at `collection` in one atomic request (delete + create), so
 * readers never see a missing alias. Returns where it pointed before, or null.
 * Idempotent: switching to where it already points changes nothing.
 */
export async function switchQdrantAlias(
  conn: QdrantConnection,
  alias: string,
  collection: string,
): Promise<string | null> {
  const api = new QdrantApi(conn);
  const { aliases } = await api.call('list aliases', (c) => c.getAliases());
  const previous = aliases.find((a) => a.alias_name === alias)?.collection_name ?? null;
  if (previous === collection) return previous;
  const actions = [
    ...(previous !== null ? [{ delete_alias: { alias_name: alias } }] : []),
    { create_alias: { collection_name: collection, alias_name: alias } },
  ];
  try {
    await api.call('switch alias', (c) => c.updateCollectionAliases({ actions }), collection);
  } catch (e) {
    if (e instanceof QdrantRequestError && e.status === 409) throw new QdrantAliasConflictError(alias);
    throw e;
  }
  return previous;
}

/** Removes an alias if it exists (no error when it does not). */
export async function deleteQdrantAlias(conn: QdrantConnection, alias: string): Promise<void> {
  await new QdrantApi(conn).call('delete alias', (c) =>
    c.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: alias } }] }),
  );
}

/** Drops a collection by its real name; false when it did not exist. For rollbacks and drills' cleanup. */
export async function dropQdrantCollection(conn: QdrantConnection, collection: string): Promise<boolean> {
  return new QdrantApi(conn).call('delete collection', (c) => c.deleteCollection(collection), collection);
}

/**
 * Creates, in one request, each alias that does not exist yet, pointing at
 * `collection`; aliases that exist (wherever they point) are left alone.
 * Returns the ones created.
 */
export async function ensureQdrantAliases(
  conn: QdrantConnection,
  collection: string,
  aliases: string[],
): Promise<string[]> {
  if (!aliases.length) return [];
  const api = new QdrantApi(conn);
  const existing = new Set((await api.call('list aliases', (c) => c.getAliases())).aliases.map((a) => a.alias_name));
  const missing = aliases.filter((a) => !existing.has(a));
  if (!missing.length) return [];
  const { collections } = await api.call('list collections', (c) => c.getCollections());
  const free = missing.filter((a) => !collections.some((c) => c.name === a));
  if (!free.length) return [];
  await api.call(
    'restore aliases',
    (c) =>
      c.updateCollectionAliases({
        actions: free.map((alias_name) => ({ create_alias: { collection_name: collection, alias_name } })),
      }),
    collection,
  );
  return free;
}
