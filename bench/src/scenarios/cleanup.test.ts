import { describe, expect, it } from 'vitest';
import { Cleanup } from './cleanup.js';

describe('Cleanup', () => {
  it('runs every step in reverse order, even after a failure, then rethrows the first failure', async () => {
    const ran: string[] = [];
    const cleanup = new Cleanup();
    cleanup.push(async () => ran.push('database'));
    cleanup.push(async () => {
      ran.push('workers');
      throw new Error('workers would not stop');
    });
    cleanup.push(async () => {
      ran.push('generator');
      throw new Error('second failure');
    });
    await expect(cleanup.run()).rejects.toThrow('second failure');
    expect(ran).toEqual(['generator', 'workers', 'database']);
    await expect(cleanup.run()).rejects.toThrow('second failure'); // idempotent: nothing runs again
    expect(ran).toHaveLength(3);
  });

  it('resolves when every step succeeds; track registers a step on a value and returns it', async () => {
    const cleanup = new Cleanup();
    const stopped: string[] = [];
    const server = cleanup.track({ name: 'gateway' }, async (s) => stopped.push(s.name));
    expect(server.name).toBe('gateway');
    cleanup.push(async () => undefined);
    await expect(cleanup.run()).resolves.toBeUndefined();
    expect(stopped).toEqual(['gateway']);
    cleanup.track({ name: 'late worker' }, async (s) => stopped.push(s.name));
    expect(stopped).toEqual(['gateway', 'late worker']); // started after run(): stopped at once
  });
});
