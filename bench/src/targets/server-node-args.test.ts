import { describe, expect, it } from 'vitest';
import { serverNodeArgs } from './server-node-args.js';

describe('serverNodeArgs', () => {
  it('splits BENCH_SERVER_NODE_ARGS on whitespace, nothing when unset or blank', () => {
    expect(serverNodeArgs({ BENCH_SERVER_NODE_ARGS: ' --cpu-prof  --cpu-prof-dir=/tmp/p ' })).toEqual([
      '--cpu-prof',
      '--cpu-prof-dir=/tmp/p',
    ]);
    expect(serverNodeArgs({})).toEqual([]);
    expect(serverNodeArgs({ BENCH_SERVER_NODE_ARGS: '  ' })).toEqual([]);
  });
});
