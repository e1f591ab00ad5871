export interface CollectOptions<Row, Item, Key> {
  limit: number;
  after: Key | null;
  /** Reads up to `n` rows strictly after `after`, in listing order. */
  fetch(after: Key | null, n: number): Promise<Row[]>;
  /** Turns read rows into items, dropping those a later check excludes (order kept). */
  keep(rows: Row[]): Promise<Item[]>;
  key(row: Row): Key;
  /** Reads at most this many times to fill a page whose rows were dropped. Default 4. */
  maxReads?: number;
}

export interface CollectedPage<Item, Key> {
  items: Item[];
  /** Position after the last row read, or null when the listing is exhausted. */
  next: Key | null;
}

/**
 * One page of a keyset listing whose rows may be dropped after reading (the read-time status
 * check). Reads one row beyond what it needs to know whether more exist, refills a page that lost
 * rows up to `maxReads` times, and returns the position of the last row it consumed: a page may be
 * shorter than `limit` with a non-null `next`, but no row is ever skipped or repeated.
 */
export async function collectPage<Row, Item, Key>(
  o: CollectOptions<Row, Item, Key>,
): Promise<CollectedPage<Item, Key>> {
  const items: Item[] = [];
  let after = o.after;
  const maxReads = o.maxReads ?? 4;
  for (let read = 1; ; read++) {
    const want = o.limit - items.length;
    const rows = await o.fetch(after, want + 1);
    const more = rows.length > want;
    const used = more ? rows.slice(0, want) : rows;
    items.push(...(await o.keep(used)));
    if (used.length > 0) after = o.key(used.at(-1)!);
    if (!more) return { items, next: null };
    if (items.length >= o.limit || read >= maxReads) return { items, next: after };
  }
}
