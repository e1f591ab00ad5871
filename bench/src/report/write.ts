/**
 * Result files of a run: `resultBaseName`, `chartFileName`, `withChartLinks` (the Markdown with a
 * Charts section linking each SVG) and `writeResult` (JSON, Markdown and SVG files).
 */
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

/** The file name of chart `name` of the run `base` (Markdown links it relative to the results directory). */
export function chartFileName(base: string, name: string): string {
  return `${base}.${name}.svg`;
}

/** The text of an SVG document's `<title>` element (still XML-escaped, which Markdown renders). */
function svgTitle(svg: string): string | null {
  return /<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? null;
}

/** `markdown` followed by a Charts section with `![title](<base>.<name>.svg)` per chart (none: unchanged). */
export function withChartLinks(markdown: string, base: string, charts: Record<string, string> = {}): string {
  const links = Object.entries(charts).map(
    ([name, svg]) => `![${(svgTitle(svg) ?? name).replace(/[[\]]/g, '')}](${chartFileName(base, name)})`,
  );
  if (links.length === 0) return markdown;
  return `${markdown.trimEnd()}\n\n## Charts\n\n${links.join('\n\n')}\n`;
}

/**
 * Writes `<base>.json`, `<base>.md` and one `<base>.<name>.svg` per chart into `dir` (created if
 * missing); returns the paths.
 */
export async function writeResult(
  dir: string,
  base: string,
  report: unknown,
  markdown: string,
  charts: Record<string, string> = {},
): Promise<{ json: string; markdown: string; charts: string[] }> {
  await mkdir(dir, { recursive: true });
  const paths = {
    json: join(dir, `${base}.json`),
    markdown: join(dir, `${base}.md`),
    charts: [] as string[],
  };
  await writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(paths.markdown, markdown);
  for (const [name, svg] of Object.entries(charts)) {
    const path = join(dir, chartFileName(base, name));
    await writeFile(path, svg);
    paths.charts.push(path);
  }
  return paths;
}
