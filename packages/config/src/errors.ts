/** One problem with one environment variable. */
export interface ConfigIssue {
  /** The environment variable at fault (for cross-field checks: the first one named). */
  readonly variable: string;
  readonly message: string;
}

/** Thrown when the environment does not describe a valid configuration. Lists every problem found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}
