/** Small async helpers shared by the repository and the adapters. */

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first failure. */
export async function forEachLimit<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed: unknown;
  let hasFailed = false;
  const worker = async () => {
    for (let n = it.next(); !n.done && !hasFailed; n = it.next()) {
      try {
        await fn(n.value);
      } catch (e) {
        if (!hasFailed) {
          hasFailed = true;
          failed = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (hasFailed) throw failed;
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
