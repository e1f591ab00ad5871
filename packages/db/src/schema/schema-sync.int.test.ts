import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../migrate.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'drizzle-sync-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('generated migrations', () => {
  it('match the TypeScript schema (`pnpm --filter @opamp-fleet/db generate` has been run)', async () => {
    const out = join(work, 'drizzle');
    cpSync(migrationsFolder(), out, { recursive: true });
    const before = readdirSync(out).sort();
    const bin = join(packageDir, 'node_modules', '.bin', 'drizzle-kit');
    const { stdout } = await promisify(execFile)(
      bin,
      // drizzle-kit prefixes --out with './', so it must be relative to the working directory.
      [
        'generate',
        '--dialect',
        'postgresql',
        '--schema',
        './src/schema/index.ts',
        '--out',
        relative(packageDir, out),
      ],
      { cwd: packageDir },
    );
    expect(readdirSync(out).sort(), stdout).toEqual(before);
    expect(stdout).toContain('No schema changes');
  });
});
