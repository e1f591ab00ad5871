import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `connect-20250101T120000Z-10000a`: sortable by date, unique per run and fleet size. */
export function resultBaseName(scenario: string, startedAt: Date, agents: number): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${scenario}-${stamp}-${agents}a`;
}

/** Writes `<base>.json` and `<base>.md` into `dir` (created if missing); returns both paths. */
export async function writeResult(
  dir: string,
  base: string,
  report: unknown,
  markdown: string,
): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const paths = { json: join(dir, `${base}.json`), markdown: join(dir, `${base}.md`) };
  await writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(paths.markdown, markdown);
  return paths;
}
