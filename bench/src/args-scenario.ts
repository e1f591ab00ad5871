/**
 * `parseScenarioArgs`: strict parsing of one registered scenario's command line (`<name> [options]`)
 * with the options every scenario shares (`--out DIR`, `--json`); usage errors are ArgsErrors.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ArgsError } from './args-error.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options of every scenario: output directory and JSON on stdout. */
export const SHARED_OPTIONS = {
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const SHARED_USAGE = `  --out DIR                   directory for the results (default bench/results)
  --json                      print the JSON result instead of the Markdown summary`;

/**
 * The option values of `argv` (`name` first, then options only), checked against `options` plus
 * SHARED_OPTIONS. String options stay strings: validate them with arg-values.ts.
 */
export function parseScenarioArgs<const T extends OptionSpec>(
  name: string,
  argv: readonly string[],
  options: T,
): Partial<Record<keyof T, string>> & { out?: string; json: boolean } {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, ...SHARED_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const [scenario, ...extra] = parsed.positionals;
  if (scenario !== name) throw new ArgsError(`expected scenario "${name}", got "${scenario ?? ''}"`);
  if (extra.length > 0) throw new ArgsError(`unexpected argument "${extra[0]}"`);
  const { json, ...values } = parsed.values;
  return { ...(values as Partial<Record<keyof T, string>>), json: json === true };
}
