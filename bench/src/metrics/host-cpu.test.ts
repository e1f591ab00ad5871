import { describe, expect, it } from 'vitest';
import { hostCpuUsage, parseCpuPressureMicros, parseHostCpuTimes } from './host-cpu.js';
import { ProcReadError } from './proc.js';

describe('parseHostCpuTimes', () => {
  it('sums the busy, idle and steal fields of the aggregate line', () => {
    const stat = 'cpu  100 5 50 800 20 3 7 15 0 0\ncpu0 50 2 25 400 10 1 3 7 0 0\nintr 1\n';
    expect(parseHostCpuTimes(stat)).toEqual({ busy: 165, idle: 820, steal: 15, total: 1000 });
  });

  it('rejects text without a cpu line', () => {
    expect(() => parseHostCpuTimes('intr 1\n')).toThrow(ProcReadError);
  });
});

describe('parseCpuPressureMicros', () => {
  it('reads the total of the "some" line', () => {
    const text =
      'some avg10=7.22 avg60=40.35 avg300=35.84 total=643863886\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    expect(parseCpuPressureMicros(text)).toBe(643_863_886);
  });

  it('is null without pressure information', () => {
    expect(parseCpuPressureMicros('')).toBeNull();
  });
});

describe('hostCpuUsage', () => {
  it('gives busy and steal shares of all cores and the pressure share of the wall time', () => {
    const before = { times: { busy: 100, idle: 100, steal: 0, total: 200 }, pressureMicros: 1_000_000 };
    const after = { times: { busy: 460, idle: 120, steal: 20, total: 600 }, pressureMicros: 2_500_000 };
    expect(hostCpuUsage(before, after, 2)).toEqual({ busyPercent: 90, stealPercent: 5, pressurePercent: 75 });
  });

  it('has no pressure share without PSI', () => {
    const r = { times: { busy: 0, idle: 0, steal: 0, total: 0 }, pressureMicros: null };
    expect(hostCpuUsage(r, r, 1)).toEqual({ busyPercent: 0, stealPercent: 0, pressurePercent: null });
  });
});
