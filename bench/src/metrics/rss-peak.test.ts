import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { readRssBytes } from './proc.js';
import { startRssPeak } from './rss-peak.js';

const MiB = 1024 * 1024;

// A child that holds 160 MiB for a while, lets it go and returns it to the kernel, then idles.
const GROW_AND_SHRINK = `
  let held = Buffer.alloc(160 * 1024 * 1024, 1);
  process.send('grown');
  setTimeout(() => { held = null; globalThis.gc(); process.send('freed'); }, 600);
  setInterval(() => {}, 1000);
`;

let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
});

describe('startRssPeak', () => {
  it('keeps the peak of a process that grew and shrank between the first and the last reading', async () => {
    child = spawn(process.execPath, ['--expose-gc', '-e', GROW_AND_SHRINK], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const pid = child.pid!;
    const sampler = startRssPeak([pid, process.pid], 100);
    await once(child, 'message'); // grown
    await once(child, 'message'); // freed
    await sleep(300);
    const peak = await sampler.stop();
    const childNow = await readRssBytes(pid);
    expect(peak.samples).toBeGreaterThanOrEqual(3);
    expect(peak.peakProcessBytes).toBeGreaterThanOrEqual(160 * MiB);
    expect(childNow).toBeLessThan(100 * MiB);
    // the sum at the peak held the child's buffer; the last reading no longer does
    expect(peak.peakTotalBytes - peak.lastTotalBytes).toBeGreaterThan(100 * MiB);
    expect(await sampler.stop()).toEqual(peak);
  });

  it('reads a process that has exited as nothing resident', async () => {
    child = spawn(process.execPath, ['-e', 'process.exit(0)'], { stdio: 'ignore' });
    const pid = child.pid!;
    await once(child, 'exit');
    const peak = await startRssPeak([pid], 50).stop();
    expect(peak).toMatchObject({ peakTotalBytes: 0, peakProcessBytes: 0, lastTotalBytes: 0 });
    expect(peak.samples).toBeGreaterThanOrEqual(1);
  });
});
