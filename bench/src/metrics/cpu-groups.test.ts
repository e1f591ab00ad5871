import { describe, expect, it } from 'vitest';
import { cpuDelta, parseRedisProcessId } from './cpu-groups.js';

describe('cpuDelta', () => {
  it('sums per-process increases, counting processes started in between fully', () => {
    const before = new Map([
      [1, 10],
      [2, 5],
      [3, 7], // gone by the end
    ]);
    const after = new Map([
      [1, 12.5],
      [2, 5],
      [4, 0.5], // new
    ]);
    expect(cpuDelta(before, after)).toEqual({ processes: 3, cpuSeconds: 3 });
  });

  it('is null when nothing was read at the end', () => {
    expect(cpuDelta(new Map([[1, 1]]), new Map())).toBeNull();
  });
});

describe('parseRedisProcessId', () => {
  it('reads process_id from INFO server', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nprocess_id:4242\r\nrun_id:abc\r\n';
    expect(parseRedisProcessId(info)).toBe(4242);
  });

  it('is null without it', () => {
    expect(parseRedisProcessId('# Server\r\nredis_version:7.0.15\r\n')).toBeNull();
  });
});
