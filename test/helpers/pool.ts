// Runs independent test cases side by side, but only `limit` at once: each crash case starts Helm
// processes under tsx, and a dozen cold starts at once on a 2-core CI machine take longer than the
// bound a test gives one Helm to beat.

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the items' order. */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
