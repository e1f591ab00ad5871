import { describe, expect, it } from 'vitest';
import { nextTickDelayMs, type TickReport } from './sweeper.js';

const idle: TickReport = {
  leader: true,
  offlineHeld: false,
  offline: 0,
  errored: 0,
  fenced: false,
  complete: true,
};

describe('nextTickDelayMs', () => {
  it('waits the sweep interval after a tick that changed no agent', () => {
    expect(nextTickDelayMs(idle, 1000)).toBe(1000);
    expect(nextTickDelayMs({ ...idle, leader: false }, 1000)).toBe(1000);
    // a failing tick that changed nothing does not spin
    expect(nextTickDelayMs({ ...idle, complete: false }, 1000)).toBe(1000);
  });

  it('runs the next tick at once after one that took agents offline or moved them to error', () => {
    expect(nextTickDelayMs({ ...idle, offline: 1 }, 1000)).toBe(0);
    expect(nextTickDelayMs({ ...idle, errored: 3, complete: false }, 1000)).toBe(0);
    expect(nextTickDelayMs({ ...idle, offline: 2000, fenced: true, complete: false }, 250)).toBe(0);
  });
});
