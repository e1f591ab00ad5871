import { describe, expect, it } from 'vitest';
import { ArgsError } from '../args-error.js';
import { parseSimScenarioArgs, simOptionsFor } from './scenario-args.js';

const DEFAULTS = {
  agents: 100,
  gateways: 2,
  transport: 'mix',
  heartbeatSeconds: 10,
  durationSeconds: 60,
  offlineTimeoutSeconds: 30,
} as const;

describe('parseSimScenarioArgs', () => {
  it('applies the scenario defaults and the simulator defaults', () => {
    const args = parseSimScenarioArgs(['steady-state'], DEFAULTS);
    expect(args).toMatchObject({
      agents: 100,
      gateways: 2,
      heartbeatSeconds: 10,
      target: null,
      outDir: null,
      json: false,
    });
    expect(args.sim).toMatchObject({
      transport: 'mix',
      httpShare: 0.5,
      heartbeatMs: 10_000,
      jitter: 0.1,
      backoff: { baseMs: 500, capMs: 30_000 },
      agentsPerProcess: 19_000,
      agentsPerAddress: 5_000,
      processes: null,
    });
  });

  it('reads the shared and the scenario options', () => {
    const args = parseSimScenarioArgs(
      [
        'churn',
        '--agents',
        '7',
        '--transport',
        'http',
        '--heartbeat',
        '2',
        '--sim-processes',
        '3',
        '--backoff-base',
        '50',
        '--churn-per-minute',
        '9',
        '--json',
      ],
      DEFAULTS,
      { 'churn-per-minute': { type: 'string' } },
    );
    expect(args).toMatchObject({
      agents: 7,
      heartbeatSeconds: 2,
      json: true,
      extra: { 'churn-per-minute': '9' },
    });
    expect(args.sim).toMatchObject({
      agents: 7,
      transport: 'http',
      heartbeatMs: 2000,
      processes: 3,
      backoff: { baseMs: 50 },
    });
  });

  it('makes the echo baseline WebSocket-only, without a token', () => {
    const args = parseSimScenarioArgs(
      ['steady-state', '--target', 'ws://127.0.0.1:1/v1/opamp', '--token', 't'],
      DEFAULTS,
    );
    expect(simOptionsFor(args, 'ws://x/v1/opamp')).toMatchObject({
      transport: 'mix',
      token: 't',
      echo: false,
    });
    expect(simOptionsFor(args, 'ws://x/v1/opamp', true)).toMatchObject({
      transport: 'ws',
      token: null,
      echo: true,
    });
  });

  it('rejects bad values before anything starts', () => {
    const bad = [
      ['--transport', 'grpc'],
      ['--http-share', '1.5'],
      ['--agents', '0'],
      ['--backoff-base', '100', '--backoff-cap', '50'],
      ['--token', 'x'],
      ['--unknown'],
      ['extra-positional'],
    ];
    for (const argv of bad)
      expect(() => parseSimScenarioArgs(['steady-state', ...argv], DEFAULTS)).toThrow(ArgsError);
  });
});
