/**
 * `runBenchCli`: runs the built CLI (`dist/cli.js`) with `--out dir` and reads back what it wrote
 * (JSON report, Markdown, charts by name): the smoke tests' way to check a scenario end to end.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

export interface CliResult<R> {
  report: R;
  markdown: string;
  stdout: string;
  /** Base name of the result files (`<scenario>-<date>-<agents>a`). */
  base: string;
  /** SVG documents by chart name. */
  charts: Record<string, string>;
}

export async function runBenchCli<R>(
  args: readonly string[],
  dir: string,
  timeoutMs = 90_000,
): Promise<CliResult<R>> {
  const { stdout } = await run(process.execPath, [CLI, ...args, '--out', dir], { timeout: timeoutMs });
  const files = await readdir(dir);
  const json = files.find((f) => f.endsWith('.json'));
  if (json === undefined) throw new Error(`no JSON report in ${dir}: ${files.join(', ')}`);
  const base = json.slice(0, -'.json'.length);
  const charts: Record<string, string> = {};
  for (const f of files.filter((name) => name.startsWith(`${base}.`) && name.endsWith('.svg'))) {
    charts[f.slice(base.length + 1, -'.svg'.length)] = await readFile(join(dir, f), 'utf8');
  }
  return {
    report: JSON.parse(await readFile(join(dir, json), 'utf8')) as R,
    markdown: await readFile(join(dir, `${base}.md`), 'utf8'),
    stdout,
    base,
    charts,
  };
}
