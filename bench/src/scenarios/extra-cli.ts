import { resolve } from 'node:path';
import { resultBaseName, writeResult } from '../report/write.js';
import { runApiLatencyScenario } from './api-latency.js';
import { formatApiMarkdown } from './api-latency-report.js';
import type { Cleanup } from './cleanup.js';
import { parseExtraArgs } from './extra-args.js';
import { runOfflineDetectionScenario } from './offline-detection.js';
import { formatOfflineMarkdown } from './offline-detection-report.js';

export interface ExtraCliContext {
  command: string;
  redisUrl: string;
  adminDatabaseUrl: string;
  resultsDir: string;
  cleanup: Cleanup;
  progress(line: string): void;
  print(text: string): void;
}

/**
 * Runs `pnpm bench offline-detection|api-latency ...`: parses `argv` (ArgsError on a usage error),
 * runs the scenario, writes `<scenario>-<date>-<agents>a.{json,md}`, prints the summary and returns
 * the exit code (0 complete, 2 incomplete). Cleanup steps are registered on `context.cleanup`.
 */
export async function runExtraCli(argv: readonly string[], context: ExtraCliContext): Promise<number> {
  const options = parseExtraArgs(argv);
  const base = { ...context };
  const { report, markdown } =
    options.scenario === 'offline-detection'
      ? await runOfflineDetectionScenario(options.cases, base).then((r) => ({
          report: r,
          markdown: formatOfflineMarkdown(r),
        }))
      : await runApiLatencyScenario(options, base)
          .then((r) => ({ report: r, markdown: formatApiMarkdown(r) }))
          .finally(() => context.cleanup.run());
  const outDir = options.out === null ? context.resultsDir : resolve(options.out);
  const paths = await writeResult(
    outDir,
    resultBaseName(report.scenario, new Date(report.startedAt), options.agents),
    report,
    markdown,
  );
  context.print(options.json ? `${JSON.stringify(report, null, 2)}\n` : markdown);
  context.progress(`results: ${paths.json}\n         ${paths.markdown}`);
  return report.complete ? 0 : 2;
}
