import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type PostgresFixture, postgresFixture } from '@opamp-fleet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs the built CLI (`pnpm build` first), proving the migrations folder resolves from dist/ too.
const cli = fileURLToPath(new URL('../dist/migrate-cli.js', import.meta.url));
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [cli, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

let fx: PostgresFixture;
beforeAll(async () => {
  fx = await postgresFixture();
});
afterAll(async () => {
  await fx?.stop();
});

describe('migrate-cli (built)', () => {
  it('migrates an empty database, then applies nothing', async () => {
    const first = await run([fx.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^migrations: [1-9]\d* applied/);
    const second = await run([fx.url]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^migrations: 0 applied/);
  });

  it('exits 2 with usage when the URL is missing', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage');
  });
});
