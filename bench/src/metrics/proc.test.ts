import { describe, expect, it } from 'vitest';
import { ProcReadError, parseCpuSeconds, parseOpenFileLimits, parseVmRssBytes } from './proc.js';

describe('parseVmRssBytes', () => {
  it('reads the VmRSS line in bytes', () => {
    const text = 'Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51200 kB\nRssAnon:\t 100 kB\n';
    expect(parseVmRssBytes(text)).toBe(51_200 * 1024);
  });

  it('throws a named error when the line is missing', () => {
    expect(() => parseVmRssBytes('Name:\tkthreadd\n')).toThrow(ProcReadError);
  });
});

describe('parseCpuSeconds', () => {
  it('sums utime and stime even when the command name contains spaces and parens', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '250', '50', '0', '0'];
    const text = `1234 (node (my worker)) ${fields.join(' ')}\n`;
    expect(parseCpuSeconds(text)).toBe(3);
  });

  it('throws on a truncated line', () => {
    expect(() => parseCpuSeconds('1 (x) S 1 2')).toThrow(ProcReadError);
  });
});

describe('parseOpenFileLimits', () => {
  it('reads soft and hard limits', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max open files            1024                 20000                files',
    ].join('\n');
    expect(parseOpenFileLimits(text)).toEqual({ soft: 1024, hard: 20_000 });
  });

  it('maps "unlimited" to infinity', () => {
    expect(parseOpenFileLimits('Max open files  unlimited unlimited files').hard).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
