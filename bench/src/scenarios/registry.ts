import type { Cleanup } from './cleanup.js';

/** What every scenario's CLI entry receives from `pnpm bench`. */
export interface ScenarioContext {
  /** The command line as a reproducible shell command (secrets masked). */
  command: string;
  redisUrl: string;
  /** Postgres URL used as admin to create and drop per-run databases. */
  adminDatabaseUrl: string;
  /** Where results go when the scenario's `--out` is absent. */
  resultsDir: string;
  /** Cleanup steps of the run; also run on SIGINT/SIGTERM. */
  cleanup: Cleanup;
  /** One line of live progress (stderr). */
  progress(line: string): void;
}

/** What a scenario run produced; `pnpm bench` writes it to `<outDir>/<scenario>-<date>-<agents>a.*`. */
export interface ScenarioOutput {
  report: { scenario: string; startedAt: string; complete: boolean };
  markdown: string;
  /** Fleet size for the result file name. */
  agents: number;
  /** SVG documents by chart name, written as `<base>.<name>.svg` and linked from the Markdown. */
  charts?: Record<string, string>;
  /** `--out`, resolved against the working directory; null means `context.resultsDir`. */
  outDir: string | null;
  /** `--json`: print the JSON report instead of the Markdown. */
  json: boolean;
}

/**
 * One `pnpm bench <name>` scenario. `run` parses its own arguments (throwing `ArgsError` on a usage
 * error, before starting anything), registers every resource it starts on `context.cleanup`, and
 * returns its report. Register new scenarios in `SCENARIO_REGISTRY` (scenarios/index.ts).
 */
export interface ScenarioCli {
  name: string;
  /** One line for the scenario list of `--help`. */
  summary: string;
  /** The scenario's options, one per line, indented like USAGE in args.ts. */
  usage: string;
  run(argv: readonly string[], context: ScenarioContext): Promise<ScenarioOutput>;
}
