import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

const dist = (pkg: string) => fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url));

/** A Node process as our apps run: exitOnCrash installed, stops on SIGTERM, idles otherwise. */
const APP = `
const { createLogger, exitOnCrash } = await import(${JSON.stringify(dist('telemetry'))});
exitOnCrash(createLogger({ name: 'app', level: 'warn' }));
process.on('SIGTERM', () => { console.log('graceful stop'); process.exit(0); });
setInterval(() => {}, 1000);
`;

/** Starts the app with startProcess, prints its pid, then idles until killed. */
const PARENT = `
const { startProcess } = await import(${JSON.stringify(dist('testkit'))});
const app = await startProcess({
  name: 'app',
  command: process.execPath,
  args: ['--input-type=module', '-e', ${JSON.stringify(APP)}],
});
console.log('app pid ' + app.pid);
setInterval(() => {}, 1000);
`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('processes started with startProcess', () => {
  it('stop gracefully when their parent is killed with SIGKILL', async () => {
    const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await eventually(() => expect(out).toMatch(/app pid \d+/), { timeoutMs: 15_000 });
    const pid = Number(/app pid (\d+)/.exec(out)![1]);
    expect(alive(pid)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(pid)).toBe(true); // the channel alone neither stops nor keeps it

    parent.kill('SIGKILL');
    await eventually(() => expect(alive(pid)).toBe(false), { timeoutMs: 10_000 });
  });
});
