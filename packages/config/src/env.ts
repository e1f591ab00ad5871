import { z } from 'zod';

/** A documented environment variable: its schema, its default as written in docs, and what it means. */
export interface EnvVariable<T> {
  readonly schema: z.ZodType<T>;
  /** The default as a person would write it in the environment, or a description of a derived default. */
  readonly defaultText: string;
  readonly description: string;
  /** The value is a credential: never echoed in errors. */
  readonly secret?: boolean;
}

/** The documentation of one variable, for tables such as the README's. */
export interface VariableDoc {
  readonly name: string;
  readonly default: string;
  readonly description: string;
}

export function variable<T>(
  schema: z.ZodType<T>,
  defaultText: string,
  description: string,
  options: { secret?: boolean } = {},
): EnvVariable<T> {
  return { schema, defaultText, description, ...options };
}

/** An integer within [min, max], written in decimal. */
export function int(min: number, max: number): z.ZodType<number> {
  return z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

export function port(): z.ZodType<number> {
  return int(0, 65535);
}

export function bool(): z.ZodType<boolean> {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

export function text(): z.ZodType<string> {
  return z.string().min(1);
}

/** A comma-separated list; blanks around items and empty items are dropped. */
export function list(): z.ZodType<string[]> {
  return z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
}

export type EnvSpec = Record<string, EnvVariable<unknown>>;
export type EnvValues<S extends EnvSpec> = { [K in keyof S]: S[K] extends EnvVariable<infer T> ? T : never };

export interface EnvParseIssue {
  readonly variable: string;
  readonly message: string;
}

/**
 * Parses each variable of `spec` from `env`. A variable that is unset or blank takes `defaults[name]`,
 * parsed exactly like user input. The value of a `secret` variable never appears in a message.
 */
export function parseEnv<S extends EnvSpec>(
  spec: S,
  env: Readonly<Record<string, string | undefined>>,
  defaults: Readonly<Record<keyof S, string>>,
): { values: Partial<EnvValues<S>>; issues: EnvParseIssue[] } {
  const values: Record<string, unknown> = {};
  const issues: EnvParseIssue[] = [];
  for (const [name, def] of Object.entries(spec)) {
    const raw = env[name]?.trim();
    const input = raw === undefined || raw === '' ? defaults[name as keyof S] : raw;
    const parsed = def.schema.safeParse(input);
    if (parsed.success) {
      values[name] = parsed.data;
      continue;
    }
    const reason = parsed.error.issues.map((i) => i.message).join('; ');
    const shown = def.secret ? '' : ` (got ${JSON.stringify(input)})`;
    issues.push({ variable: name, message: `${reason}${shown}` });
  }
  return { values: values as Partial<EnvValues<S>>, issues };
}

export function describeSpec(spec: EnvSpec): VariableDoc[] {
  return Object.entries(spec).map(([name, v]) => ({
    name,
    default: v.defaultText,
    description: v.description,
  }));
}
