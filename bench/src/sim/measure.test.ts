import { describe, expect, it } from 'vitest';
import { emptyCounters } from './counters.js';
import { counterDelta } from './measure.js';

describe('counterDelta', () => {
  it('subtracts cumulative counters and tallies, keeps gauges as they end, drops empty kinds', () => {
    const before = {
      ...emptyCounters(),
      agents: 10,
      connected: 10,
      sent: 100,
      drops: 1,
      dropKinds: { '1006': 1 },
    };
    const after = {
      ...emptyCounters(),
      agents: 9,
      connected: 8,
      sent: 150,
      drops: 3,
      dropKinds: { '1006': 1, ECONNREFUSED: 2 },
    };
    expect(counterDelta(before, after)).toMatchObject({
      agents: 9,
      connected: 8,
      sent: 50,
      drops: 2,
      dropKinds: { ECONNREFUSED: 2 },
    });
  });
});
