import { describe, expect, it } from 'vitest';
import { ArgsError } from '../args-error.js';
import { parseScaleArgs } from './scale-args.js';

describe('parseScaleArgs', () => {
  it('defaults to 100,000 agents on one gateway per 18,000, two heartbeat intervals', () => {
    expect(parseScaleArgs(['scale'])).toMatchObject({
      agents: 100_000,
      gateways: 6,
      workers: 1,
      heartbeatSeconds: 30,
      durationSeconds: 60,
      offlineTimeoutSeconds: 90,
      agentsPerGenerator: 19_000,
      baseline: true,
      out: null,
      json: false,
    });
    expect(parseScaleArgs(['scale', '--agents', '250000'])).toMatchObject({ gateways: 14 });
    expect(parseScaleArgs(['scale', '--agents', '300', '--heartbeat', '2'])).toMatchObject({
      gateways: 1,
      durationSeconds: 4,
      offlineTimeoutSeconds: 60,
    });
    expect(parseScaleArgs(['scale', '--workers', '3'])).toMatchObject({ workers: 3 });
    expect(parseScaleArgs(['scale', '--no-baseline', '--json', '--out', 'x'])).toMatchObject({
      baseline: false,
      json: true,
      out: 'x',
    });
  });

  it('refuses more agents per gateway than one process can hold, and unknown options', () => {
    expect(() => parseScaleArgs(['scale', '--agents', '40000', '--gateways', '2'])).toThrow(/--gateways 3/);
    expect(() => parseScaleArgs(['scale', '--transport', 'http'])).toThrow(ArgsError);
    expect(() => parseScaleArgs(['scale', 'extra'])).toThrow(ArgsError);
    expect(() => parseScaleArgs(['scale', '--agents', '0'])).toThrow(ArgsError);
    expect(() => parseScaleArgs(['scale', '--workers', '0'])).toThrow(/workers/);
    expect(() => parseScaleArgs(['scale', '--workers', '17'])).toThrow(/workers/);
  });
});
