/**
 * `expectChartsLinked`: the checks every scenario smoke test makes on its charts: each is a
 * well-formed SVG document and the Markdown links it as `![title](<base>.<name>.svg)`.
 */
import { XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';
import { chartFileName } from './write.js';

export function expectChartsLinked(
  base: string,
  markdown: string,
  charts: Record<string, string>,
  names: readonly string[],
): void {
  expect(Object.keys(charts).sort()).toEqual([...names].sort());
  for (const [name, svg] of Object.entries(charts)) {
    expect(XMLValidator.validate(svg), name).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(markdown).toMatch(
      new RegExp(`!\\[[^\\]]+\\]\\(${chartFileName(base, name).replaceAll('.', '\\.')}\\)`),
    );
  }
}
