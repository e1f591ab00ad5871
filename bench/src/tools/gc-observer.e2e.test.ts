import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { gcLine, gcObserverDir } from './gc-observer.js';

const run = promisify(execFile);
const PRELOAD = fileURLToPath(new URL('../../dist/tools/gc-observer-preload.js', import.meta.url));

// allocates for a while, forces two full collections, prints one line and exits
const PROGRAM = `
  let keep = [];
  for (let i = 0; i < 200000; i++) keep.push({ i, s: 'x'.repeat(20) });
  globalThis.gc();
  keep = null;
  globalThis.gc();
  setTimeout(() => console.log('done'), 1200);
`;

let dir: string | null = null;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('gc observer preload', () => {
  it('writes a process line, its collections and the event-loop delay as JSON lines, nothing to stdout', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gc-observer-'));
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', PRELOAD, '-e', PROGRAM], {
      env: { ...process.env, GC_OBSERVER_DIR: dir },
    });
    expect(stdout).toBe('done\n');
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^gc-\d+\.jsonl$/);
    const lines = (await readFile(join(dir, files[0]!), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ kind: 'process', pid: Number(files[0]!.slice(3, -6)) });
    const fullGcs = lines.filter((l) => l.kind === 'gc' && l.type === 'MarkSweepCompact') as Array<{
      heapBeforeMb: number;
      heapAfterMb: number;
      ms: number;
    }>;
    expect(fullGcs.length).toBeGreaterThanOrEqual(2);
    // the first forced collection kept the 200,000 objects, the second freed them
    const [first, second] = fullGcs.slice(-2);
    expect(first!.heapAfterMb).toBeGreaterThan(second!.heapAfterMb + 5);
    expect(second!.heapBeforeMb).toBeGreaterThan(second!.heapAfterMb + 5);
    expect(second!.ms).toBeGreaterThan(0);
    const loops = lines.filter((l) => l.kind === 'loop');
    expect(loops.length).toBeGreaterThanOrEqual(2); // one a second, and one at exit
    for (const l of loops) {
      expect(l).toEqual({
        kind: 'loop',
        t: expect.any(Number),
        delayP99Ms: expect.any(Number),
        delayMaxMs: expect.any(Number),
        newSpaceMb: expect.any(Number),
      });
    }
  });

  it('writes a collection in ms and MB, and defaults its directory', () => {
    const stat = {
      gcType: 'Scavenge',
      cost: 1534.4,
      beforeGC: { heapStatistics: { usedHeapSize: 20_250_000 } },
      afterGC: { heapStatistics: { usedHeapSize: 4_020_000 } },
    };
    expect(JSON.parse(gcLine(stat, 1.5))).toEqual({
      kind: 'gc',
      t: 1.5,
      type: 'Scavenge',
      ms: 1.53,
      heapBeforeMb: 20.3,
      heapAfterMb: 4,
    });
    expect(gcObserverDir({ GC_OBSERVER_DIR: '/x' })).toBe('/x');
    expect(gcObserverDir({})).toBe(join(tmpdir(), 'opamp-gc'));
  });
});
