/**
 * The bench CLI: `pnpm bench <scenario> [options]`, dispatched through the scenario registry
 * (scenarios/index.ts). Prints progress on stderr, the summary on stdout, and writes
 * `<scenario>-<date>-<agents>a.{json,md}` plus one `.<chart>.svg` per chart to the results directory.
 * Exit codes: 0 complete run, 2 incomplete run (report still written), 1 failure, 64 usage error.
 */
import { fileURLToPath } from 'node:url';
import { ProcessStartError, stopAllProcesses } from '@opamp-fleet/testkit';
import { ArgsError, commandLine } from './args.js';
import { GeneratorLimitError } from './load/create-generator.js';
import { calibrateHost } from './report/environment.js';
import { resultBaseName, withChartLinks, writeResult } from './report/write.js';
import { Cleanup } from './scenarios/cleanup.js';
import { findScenario, registryUsage, SCENARIO_REGISTRY } from './scenarios/index.js';
import type { ScenarioOutput } from './scenarios/registry.js';
import { runSummary, SUMMARY_USAGE } from './summary/run.js';
import { TargetStartError } from './targets/server-target.js';

const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Cleanup of the running scenario (servers, Redis keys, database), also run on SIGINT/SIGTERM. */
const cleanup = new Cleanup();

const HELP = `usage: pnpm bench <scenario> [options]   (pnpm bench <scenario> --help: its options)
       pnpm bench summary [--results DIR]

${registryUsage()}

${SUMMARY_USAGE}`;

/** Writes a scenario's result files (JSON, Markdown linking its charts, SVGs), prints its summary; returns the exit code. */
async function finish(output: ScenarioOutput): Promise<number> {
  const { report } = output;
  const outDir = output.outDir ?? DEFAULT_RESULTS_DIR;
  const base = resultBaseName(report.scenario, new Date(report.startedAt), output.agents);
  const markdown = withChartLinks(output.markdown, base, output.charts);
  const paths = await writeResult(outDir, base, report, markdown, output.charts);
  process.stdout.write(output.json ? `${JSON.stringify(report, null, 2)}\n` : markdown);
  process.stderr.write(`results: ${[paths.json, paths.markdown, ...paths.charts].join('\n         ')}\n`);
  return report.complete ? 0 : 2;
}

async function main(argv: readonly string[]): Promise<number> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const scenario = findScenario(name);
  const help = argv.includes('--help') || argv.includes('-h');
  if (name === 'summary' && !help) {
    try {
      const { text, path } = await runSummary(argv, DEFAULT_RESULTS_DIR);
      process.stdout.write(text);
      process.stderr.write(`results table: ${path}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof ArgsError)) throw error;
      process.stderr.write(`bench: ${error.message}\n\n${SUMMARY_USAGE}\n`);
      return 64;
    }
  }
  if (scenario === undefined) {
    if (help && name === undefined) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const names = SCENARIO_REGISTRY.map((s) => s.name).join(', ');
    const problem = name === undefined ? 'missing scenario' : `unknown scenario "${name}"`;
    process.stderr.write(`bench: ${problem} (one of ${names})\n\n${HELP}\n`);
    return 64;
  }
  if (help) {
    process.stdout.write(`usage: pnpm bench ${scenario.name} [options]\n${scenario.usage}\n`);
    return 0;
  }
  // timed before the scenario starts any process, so the run's own load is not in the reading
  calibrateHost();
  let output: ScenarioOutput;
  try {
    output = await scenario.run(argv, {
      command: commandLine(argv),
      redisUrl: process.env.REDIS_URL || DEFAULT_REDIS_URL,
      adminDatabaseUrl: process.env.DATABASE_URL || DEFAULT_ADMIN_DATABASE_URL,
      resultsDir: DEFAULT_RESULTS_DIR,
      cleanup,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    process.stderr.write(
      `bench: ${error.message}\n\nusage: pnpm bench ${scenario.name} [options]\n${scenario.usage}\n`,
    );
    return 64;
  }
  return finish(output);
}

// A reader that goes away (`pnpm bench ... | head`) must not end the run before its cleanup: the
// output it would have read is dropped, the run goes on and still writes its result files.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

/**
 * The first SIGINT or SIGTERM stops the run and removes what it made (servers, Redis keys, database).
 * One Ctrl-C often delivers SIGINT twice (the terminal signals the whole process group, and a parent
 * such as pnpm or timeout(1) may pass it on), so a repeat within FORCE_AFTER_MS is ignored; a later
 * one exits at once and leaves the rest behind.
 */
const FORCE_AFTER_MS = 3000;
let interruptedAt: number | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interruptedAt !== null) {
      if (performance.now() - interruptedAt < FORCE_AFTER_MS) return;
      process.stderr.write(`bench: ${signal} again, exiting without finishing the cleanup\n`);
      process.exit(130);
    }
    interruptedAt = performance.now();
    process.stderr.write(`bench: ${signal}, stopping servers and removing the run's keys and database\n`);
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
