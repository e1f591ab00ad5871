import { postgresFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createDb, type DbHandle } from '../client.js';
import { migrate } from '../migrate.js';
import { truncateTables } from './dump.js';

export interface MigratedDatabaseOptions {
  /** Pool size. */
  max: number;
  /** Empty every table before each test. Default true. */
  truncateEach?: boolean;
}

/**
 * For a test file: a migrated Postgres database of its own (testkit's postgresFixture) opened before
 * its tests and dropped after them, optionally emptied before each test. Call at module level; the
 * returned handle may be used from hooks and tests (not before `beforeAll` ran).
 */
export function useMigratedDatabase(options: MigratedDatabaseOptions): DbHandle {
  let stop: (() => Promise<void>) | undefined;
  let handle: DbHandle | undefined;
  const current = (): DbHandle => {
    if (handle === undefined) throw new Error('the test database is open only while the tests run');
    return handle;
  };
  beforeAll(async () => {
    const fx = await postgresFixture();
    stop = () => fx.stop();
    await migrate(fx.url);
    handle = createDb(fx.url, { max: options.max });
  });
  afterAll(async () => {
    await handle?.close();
    await stop?.();
  });
  if (options.truncateEach ?? true) beforeEach(() => truncateTables(current().db));
  return {
    get db() {
      return current().db;
    },
    get sql() {
      return current().sql;
    },
    close: () => current().close(),
  };
}
