import type { Redis } from 'ioredis';

/** A SCAN MATCH pattern that matches exactly the keys starting with `prefix` (glob characters escaped). */
export function scanPatternForPrefix(prefix: string): string {
  return `${prefix.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}*`;
}

/** Deletes every key starting with `prefix` using SCAN + UNLINK (never KEYS or FLUSH*); returns how many. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix === '') throw new RangeError('refusing to delete keys with an empty prefix');
  const pattern = scanPatternForPrefix(prefix);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
