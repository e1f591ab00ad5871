import { randomBytes } from 'node:crypto';
import { migrate } from '@opamp-fleet/db';
import { withDatabase } from '@opamp-fleet/testkit';
import postgres from 'postgres';
import { TargetStartError } from './server-target.js';

/** A fresh database with the schema migrated, for one run. */
export interface BenchDatabase {
  /** `bench_<random>` */
  readonly name: string;
  /** URL of the database (may carry the admin URL's password: never print it). */
  readonly url: string;
  /** DROP DATABASE ... WITH (FORCE), closing leftover sessions; idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates `bench_<random>` on the server of `adminUrl` (a role allowed to create databases) and
 * applies the migrations; a database that fails to migrate is dropped again.
 */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw new TargetStartError(`cannot create database ${name}: ${(error as Error).message}`);
  }
  let dropping: Promise<void> | null = null;
  const drop = (): Promise<void> => {
    dropping ??= (async () => {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    })();
    return dropping;
  };
  const url = withDatabase(adminUrl, name);
  try {
    await migrate(url);
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}
