import { describe, expect, it } from 'vitest';
import { formatProgress } from './progress.js';

describe('formatProgress', () => {
  const at = (received: number) => ({ requested: 100, connected: 40, sent: 0, received, errors: 2 });

  it('shows connected of requested, the reply rate over the interval and errors', () => {
    expect(formatProgress('gateway', 12_500, at(3000), at(1000), 1000)).toBe(
      '[gateway  12s] connected 40/100  msgs/s 2000  errors 2',
    );
  });

  it('scales the rate to the actual interval and survives a zero interval', () => {
    expect(formatProgress('baseline', 0, at(1500), at(1000), 500)).toContain('msgs/s 1000');
    expect(formatProgress('baseline', 0, at(1500), at(1000), 0)).toContain('msgs/s 0');
  });
});
