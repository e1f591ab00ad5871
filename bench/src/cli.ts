/**
 * The bench CLI: `pnpm bench <scenario> [options]` (see USAGE in args.ts). Prints progress on stderr,
 * the summary on stdout, and writes `<scenario>-<date>-<agents>a.{json,md}` to the results directory.
 * Exit codes: 0 complete run, 2 incomplete run (report still written), 1 failure, 64 usage error.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessStartError, stopAllProcesses } from '@opamp-fleet/testkit';
import { ArgsError, type BenchOptions, commandLine, parseBenchArgs, USAGE } from './args.js';
import { GeneratorLimitError } from './load/create-generator.js';
import { formatHeartbeatMarkdown } from './report/heartbeat-markdown.js';
import { formatConnectMarkdown } from './report/markdown.js';
import { resultBaseName, writeResult } from './report/write.js';
import { Cleanup } from './scenarios/cleanup.js';
import { runConnectScenario } from './scenarios/connect.js';
import { EXTRA_USAGE, isExtraScenario } from './scenarios/extra-args.js';
import { runExtraCli } from './scenarios/extra-cli.js';
import { runHeartbeatThroughputScenario } from './scenarios/heartbeat-throughput.js';
import { TargetStartError } from './targets/server-target.js';

const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Cleanup of the running scenario (servers, Redis keys, database), also run on SIGINT/SIGTERM. */
const cleanup = new Cleanup();

/** Runs the chosen scenario; returns its report, its Markdown and whether the run was complete. */
async function runScenario(
  options: BenchOptions,
  argv: readonly string[],
): Promise<{ report: { scenario: string; startedAt: string; complete: boolean }; markdown: string }> {
  const common = {
    command: commandLine(argv),
    redisUrl: process.env.REDIS_URL || DEFAULT_REDIS_URL,
    progress: (line: string) => process.stderr.write(`${line}\n`),
    now: () => new Date(),
  };
  if (options.scenario === 'heartbeat-throughput') {
    const report = await runHeartbeatThroughputScenario(options, {
      ...common,
      adminDatabaseUrl: process.env.DATABASE_URL || DEFAULT_ADMIN_DATABASE_URL,
      cleanup,
    });
    return { report, markdown: formatHeartbeatMarkdown(report) };
  }
  const report = await runConnectScenario(options, common);
  return { report, markdown: formatConnectMarkdown(report) };
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.some(isExtraScenario) && !argv.includes('--help') && !argv.includes('-h')) {
    return runExtraCli(argv, {
      command: commandLine(argv),
      redisUrl: process.env.REDIS_URL || DEFAULT_REDIS_URL,
      adminDatabaseUrl: process.env.DATABASE_URL || DEFAULT_ADMIN_DATABASE_URL,
      resultsDir: DEFAULT_RESULTS_DIR,
      cleanup,
      progress: (line) => process.stderr.write(`${line}\n`),
      print: (text) => process.stdout.write(text),
    }).catch((error: unknown) => {
      if (!(error instanceof ArgsError)) throw error;
      process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n\n${EXTRA_USAGE}\n`);
      return 64;
    });
  }
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n\n${EXTRA_USAGE}\n`);
    return 0;
  }
  const { report, markdown } = await runScenario(options, argv);
  const outDir = options.outDir === null ? DEFAULT_RESULTS_DIR : resolve(options.outDir);
  const base = resultBaseName(report.scenario, new Date(report.startedAt), options.agents);
  const paths = await writeResult(outDir, base, report, markdown);
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : markdown);
  process.stderr.write(`results: ${paths.json}\n         ${paths.markdown}\n`);
  return report.complete ? 0 : 2;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping servers\n`);
    void cleanup
      .run()
      .catch(() => undefined)
      .finally(() => stopAllProcesses().finally(() => process.exit(130)));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Expected failures (a server that does not start, a too-low file limit) need no stack trace.
    const expected =
      error instanceof TargetStartError ||
      error instanceof ProcessStartError ||
      error instanceof GeneratorLimitError;
    const text =
      error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`bench failed: ${text}\n`);
    void stopAllProcesses().finally(() => process.exit(1));
  },
);
