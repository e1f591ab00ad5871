import { describe, expect, it } from 'vitest';
import { calibrationRound, measureHostSpeed } from './host-speed.js';

/** A clock that advances by the given steps, one per reading. */
function steppingClock(roundMs: number[]): () => number {
  let t = 0;
  let reading = 0;
  return () => {
    // readings come in pairs around a round: start, end
    if (reading % 2 === 1) t += roundMs[(reading - 1) / 2]!;
    reading += 1;
    return t;
  };
}

describe('host speed calibration', () => {
  it('does the same work every round (same checksum)', () => {
    const first = calibrationRound();
    expect(first).toBeGreaterThan(0);
    expect(calibrationRound()).toBe(first);
  });

  it('reports the median and the fastest of the timed rounds', () => {
    expect(measureHostSpeed(3, steppingClock([50, 30, 90]))).toEqual({
      rounds: 3,
      roundMedianMs: 50,
      roundMinMs: 30,
    });
    // an even count: the nearest-rank median, as every other percentile of the bench
    expect(measureHostSpeed(4, steppingClock([40, 10, 30, 90]))).toEqual({
      rounds: 4,
      roundMedianMs: 30,
      roundMinMs: 10,
    });
  });

  it('times real rounds, and refuses a round count that is not a positive integer', () => {
    const speed = measureHostSpeed(1);
    expect(speed.rounds).toBe(1);
    expect(speed.roundMinMs).toBeGreaterThan(0);
    expect(speed.roundMedianMs).toBe(speed.roundMinMs);
    expect(() => measureHostSpeed(0)).toThrow(RangeError);
    expect(() => measureHostSpeed(2.5)).toThrow(/positive integer/);
  });
});
