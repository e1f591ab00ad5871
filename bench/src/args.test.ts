import { describe, expect, it } from 'vitest';
import { ArgsError, commandLine, parseBenchArgs } from './args.js';

describe('parseBenchArgs', () => {
  it('applies defaults', () => {
    expect(parseBenchArgs(['connect'])).toEqual({
      scenario: 'connect',
      agents: 10_000,
      gateways: 1,
      durationSeconds: 15,
      rounds: 3,
      heartbeatSeconds: 1,
      workers: 1,
      warmupSeconds: 5,
      baselineSeconds: 10,
      outDir: null,
      target: null,
      token: null,
      only: null,
      dialConcurrency: 200,
      agentsPerSourceAddress: 5_000,
      agentsPerGenerator: 19_000,
      json: false,
      help: false,
    });
  });

  it('reads every option', () => {
    const options = parseBenchArgs([
      'connect',
      '--agents',
      '50',
      '--duration=2.5',
      '--rounds',
      '1',
      '--out',
      '/tmp/x',
      '--only',
      'baseline',
      '--dial-concurrency',
      '10',
      '--agents-per-address',
      '20',
      '--agents-per-generator',
      '25',
      '--json',
    ]);
    expect(options).toMatchObject({
      agents: 50,
      durationSeconds: 2.5,
      rounds: 1,
      outDir: '/tmp/x',
      only: 'baseline',
      dialConcurrency: 10,
      agentsPerSourceAddress: 20,
      agentsPerGenerator: 25,
      json: true,
    });
  });

  it('accepts a target with a token and normalizes the URL', () => {
    const options = parseBenchArgs([
      'connect',
      '--target',
      'ws://127.0.0.1:4320/v1/opamp',
      '--token',
      's3cret',
    ]);
    expect(options.target).toBe('ws://127.0.0.1:4320/v1/opamp');
    expect(options.token).toBe('s3cret');
  });

  it('applies the heartbeat-throughput defaults and reads its options', () => {
    expect(parseBenchArgs(['heartbeat-throughput'])).toMatchObject({
      scenario: 'heartbeat-throughput',
      agents: 24_000,
      gateways: 2,
      durationSeconds: 30,
      heartbeatSeconds: 1,
      workers: 1,
    });
    expect(
      parseBenchArgs([
        'heartbeat-throughput',
        '--heartbeat',
        '5',
        '--workers',
        '2',
        '--warmup',
        '0.5',
        '--baseline-duration',
        '2',
      ]),
    ).toMatchObject({ heartbeatSeconds: 5, workers: 2, warmupSeconds: 0.5, baselineSeconds: 2 });
  });

  it('allows --help without a scenario', () => {
    expect(parseBenchArgs(['--help']).help).toBe(true);
  });

  it.each([
    [[], /missing scenario/],
    [['soak'], /scenario must be one of ws-vs-baseline, connect/],
    [['connect', 'extra'], /unexpected argument "extra"/],
    [['connect', '--agents', '10k'], /--agents must be a positive integer, got "10k"/],
    [['connect', '--agents', '0'], /--agents must be within 1\.\./],
    [['connect', '--duration=-1'], /--duration must be a positive number/],
    [['connect', '--duration', ''], /--duration must be a positive number/],
    [['connect', '--only', 'both'], /--only must be one of gateway, baseline/],
    [['connect', '--target', 'http://x/v1/opamp'], /--target must use ws:\/\/ or wss:\/\//],
    [['connect', '--target', 'not a url'], /--target must be a URL/],
    [['connect', '--token', 't'], /--token only applies with --target/],
    [['connect', '--target', 'ws://h:1/v1/opamp', '--gateways', '2'], /--gateways only applies/],
    [['connect', '--agents', '40000'], /use --gateways 3 or more/],
    [['connect', '--bogus'], /Unknown option '--bogus'/],
    [['connect', '--agents-per-generator', '20000'], /within 1\.\.19000/],
    [['connect', '--workers', '2'], /--workers only applies to the heartbeat-throughput scenario/],
    [['heartbeat-throughput', '--rounds', '2'], /--rounds only applies to the connect scenario/],
    [['heartbeat-throughput', '--target', 'ws://h:1/v1/opamp'], /--target only applies to the connect/],
    [['heartbeat-throughput', '--heartbeat', '0.5'], /--heartbeat must be a positive integer/],
    [['heartbeat-throughput', '--agents', '40000'], /use --gateways 3 or more/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(ArgsError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });

  it('lets several gateways share a large fleet', () => {
    expect(parseBenchArgs(['connect', '--agents', '40000', '--gateways', '3']).gateways).toBe(3);
  });
});

describe('commandLine', () => {
  it('rebuilds the command and masks the token', () => {
    expect(commandLine(['connect', '--agents', '50', '--token', 'abc', '--token=def'])).toBe(
      'pnpm bench connect --agents 50 --token REDACTED --token=REDACTED',
    );
  });

  it('quotes arguments the shell would split', () => {
    expect(commandLine(['connect', '--out', "my results/it's"])).toBe(
      "pnpm bench connect --out 'my results/it'\\''s'",
    );
  });

  it("leads with the servers' extra Node.js options when they are set", () => {
    const env = { BENCH_SERVER_NODE_ARGS: ' --max-old-space-size=768  --single-threaded-gc ' };
    expect(commandLine(['scale', '--agents', '250000'], env)).toBe(
      "BENCH_SERVER_NODE_ARGS='--max-old-space-size=768 --single-threaded-gc' pnpm bench scale --agents 250000",
    );
    expect(commandLine(['scale'], { BENCH_SERVER_NODE_ARGS: '--max-old-space-size=768' })).toBe(
      'BENCH_SERVER_NODE_ARGS=--max-old-space-size=768 pnpm bench scale',
    );
    expect(commandLine(['scale'], {})).toBe('pnpm bench scale');
  });
});
