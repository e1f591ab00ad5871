import type { VariableDoc } from './env.js';

/** A Markdown table of variables (name, default, meaning), for the README. */
export function renderVariablesTable(docs: readonly VariableDoc[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const rows = docs.map((d) => `| \`${d.name}\` | \`${esc(d.default)}\` | ${esc(d.description)} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
