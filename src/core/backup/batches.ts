export const BATCH_FILES = 64;
export const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Small files travel to a worker in batches: one message per file would cost more than the
 * file. A batch takes queued items in order up to a count and a byte budget, and at least one.
 */
export function takeBatch<T extends { size: number }>(queue: T[], maxItems = BATCH_FILES, maxBytes = BATCH_BYTES): T[] {
  const batch = [queue.shift()!];
  let bytes = batch[0].size;
  while (queue.length > 0 && batch.length < maxItems && bytes + queue[0].size <= maxBytes) {
    const next = queue.shift()!;
    bytes += next.size;
    batch.push(next);
  }
  return batch;
}
