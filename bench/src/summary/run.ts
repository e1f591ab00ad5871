import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ArgsError } from '../args-error.js';
import { formatSummary, latestReports } from './summary.js';

export const SUMMARY_USAGE = `summary:                      the results table of the latest run of every scenario (bench/results/SUMMARY.md)
  --results DIR               results directory to read and write (default bench/results)`;

/**
 * `pnpm bench summary [--results DIR]`: reads the result files, writes `SUMMARY.md` next to them and
 * returns its text. Throws ArgsError on a usage error.
 */
export async function runSummary(
  argv: readonly string[],
  defaultDir: string,
): Promise<{ text: string; path: string }> {
  let values: { results?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { results: { type: 'string' } },
    }));
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const dir = values.results === undefined ? defaultDir : resolve(values.results);
  const text = formatSummary(await latestReports(dir));
  const path = join(dir, 'SUMMARY.md');
  await writeFile(path, text);
  return { text, path };
}
