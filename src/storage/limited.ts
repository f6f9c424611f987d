/**
 * Runs an async step over many items with at most `limit` running at once, in item order. Every
 * item is tried even after one fails; then the first failure is thrown. For work on thousands of
 * partitions at once (opening, closing), where all at once would need thousands of file
 * descriptors together and one at a time would wait on every fsync in turn.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, step: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let failure: { reason: unknown } | null = null;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await step(items[index]!, index);
      } catch (error) {
        failure ??= { reason: error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { reason: unknown }).reason;
  return results;
}
