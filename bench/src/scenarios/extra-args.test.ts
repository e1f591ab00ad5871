import { describe, expect, it } from 'vitest';
import { ArgsError } from '../args-error.js';
import { isExtraScenario, parseExtraArgs } from './extra-args.js';
import { DEFAULT_OFFLINE_MATRIX } from './offline-detection.js';

describe('parseExtraArgs', () => {
  it('runs the default matrix without options', () => {
    const o = parseExtraArgs(['offline-detection']);
    expect(o).toMatchObject({ scenario: 'offline-detection', agents: 10_000, out: null, json: false });
    expect(o.scenario === 'offline-detection' && o.cases).toEqual(DEFAULT_OFFLINE_MATRIX);
    expect(DEFAULT_OFFLINE_MATRIX).toHaveLength(7);
  });

  it('narrows the cases by profile, mode and agents', () => {
    const o = parseExtraArgs(['offline-detection', '--agents', '3']);
    expect(o.scenario === 'offline-detection' && o.cases).toEqual([
      { profile: 'fast', mode: 'silent', agents: 3 },
      { profile: 'fast', mode: 'graceful', agents: 3 },
    ]);
    const d = parseExtraArgs(['offline-detection', '--profile', 'default', '--mode', 'silent']);
    expect(d.scenario === 'offline-detection' && d.cases).toEqual([
      { profile: 'default', mode: 'silent', agents: 1000 },
    ]);
  });

  it('reads the api-latency options with their defaults', () => {
    expect(parseExtraArgs(['api-latency'])).toEqual({
      scenario: 'api-latency',
      agents: 50_000,
      concurrency: 32,
      durationSeconds: 20,
      out: null,
      json: false,
    });
    expect(parseExtraArgs(['api-latency', '--concurrency', '4', '--json'])).toMatchObject({
      concurrency: 4,
      json: true,
    });
  });

  it('rejects options of the other scenario and bad values', () => {
    expect(() => parseExtraArgs(['api-latency', '--mode', 'silent'])).toThrow(ArgsError);
    expect(() => parseExtraArgs(['offline-detection', '--concurrency', '2'])).toThrow(ArgsError);
    expect(() => parseExtraArgs(['offline-detection', '--mode', 'loud'])).toThrow(/--mode must be one of/);
    expect(() => parseExtraArgs(['offline-detection', '--agents', '0'])).toThrow(ArgsError);
    expect(() => parseExtraArgs(['offline-detection', '--bogus'])).toThrow(ArgsError);
  });

  it('recognizes its scenarios', () => {
    expect(isExtraScenario('api-latency')).toBe(true);
    expect(isExtraScenario('connect')).toBe(false);
  });
});
