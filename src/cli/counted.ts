/**
 * "1 snapshot", "2 snapshots", "0 drives": a count and its noun, as people write them.
 * `plural` for the nouns that do not just take an s ("1 directory", "2 directories").
 */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
