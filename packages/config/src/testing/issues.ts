import { expect } from 'vitest';
import { ConfigError, type ConfigIssue } from '../errors.js';

/** For tests: the issues of the ConfigError that `load` throws; fails the test when it does not throw one. */
export function issuesOf(load: () => unknown): readonly ConfigIssue[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}
