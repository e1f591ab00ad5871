import { scanPatternForPrefix } from '@opamp-fleet/testkit';
import { Redis } from 'ioredis';
import postgres from 'postgres';

/** Every number (or null, which is how JSON writes NaN) under `value`, with its path. */
export function numbersIn(value: unknown, path = ''): Array<[string, unknown]> {
  if (typeof value === 'number' || value === null) return [[path, value]];
  if (typeof value !== 'object' || value === undefined) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    typeof v === 'string' || typeof v === 'boolean' ? [] : numbersIn(v, `${path}.${key}`),
  );
}

/** Whether the database still exists and how many keys remain under the prefix (both should be 0). */
export async function leftovers(
  database: string,
  keyPrefix: string,
): Promise<{ databases: number; keys: number }> {
  const admin = postgres(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', {
    max: 1,
  });
  const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  try {
    const dbs = await admin`select 1 from pg_database where datname = ${database}`;
    const [, keys] = await redis.scan('0', 'MATCH', scanPatternForPrefix(keyPrefix), 'COUNT', 100_000);
    return { databases: dbs.length, keys: keys.length };
  } finally {
    await admin.end({ timeout: 5 });
    redis.disconnect();
  }
}
