import { describe, expect, it } from 'vitest';
import { FlushLagTracker } from './flush-lag.js';

describe('FlushLagTracker', () => {
  it('is null until a worker has finished a run', () => {
    const t = new FlushLagTracker();
    expect(t.observe([{ runs: 0, lagSeconds: 0 }])).toBeNull();
    expect(t.observe([null])).toBeNull();
  });

  it('follows the gauge of the worker that ran most recently, ignoring stale gauges', () => {
    const t = new FlushLagTracker();
    expect(
      t.observe([
        { runs: 3, lagSeconds: 0.6 },
        { runs: 1, lagSeconds: 4 },
      ]),
    ).toBe(4); // first scrape: both ran since "the beginning"
    // worker 0 runs again; worker 1's 4 s is stale
    expect(
      t.observe([
        { runs: 4, lagSeconds: 0.5 },
        { runs: 1, lagSeconds: 4 },
      ]),
    ).toBe(0.5);
    // nobody ran since the last scrape: the lag stays what it was
    expect(
      t.observe([
        { runs: 4, lagSeconds: 0.5 },
        { runs: 1, lagSeconds: 4 },
      ]),
    ).toBe(0.5);
    // worker 1 ran (a failed scrape of worker 0 changes nothing)
    expect(t.observe([null, { runs: 2, lagSeconds: 0.7 }])).toBe(0.7);
  });

  it('takes the larger lag when several workers ran between two scrapes', () => {
    const t = new FlushLagTracker();
    t.observe([
      { runs: 1, lagSeconds: 0.1 },
      { runs: 1, lagSeconds: 0.1 },
    ]);
    expect(
      t.observe([
        { runs: 2, lagSeconds: 0.3 },
        { runs: 2, lagSeconds: 0.9 },
      ]),
    ).toBe(0.9);
  });

  it('does not go back when a restarted worker reports fewer runs', () => {
    const t = new FlushLagTracker();
    t.observe([{ runs: 5, lagSeconds: 0.5 }]);
    expect(t.observe([{ runs: 1, lagSeconds: 9 }])).toBe(0.5);
  });
});
