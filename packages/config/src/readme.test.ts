import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeApiConfig } from './api.js';
import type { VariableDoc } from './env.js';
import { describeGatewayConfig } from './gateway.js';
import { describeSweeperConfig } from './sweeper.js';
import { describeWorkerConfig } from './worker.js';

const readme = () => readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const missingFrom = (text: string, docs: readonly VariableDoc[]) =>
  docs.map((d) => d.name).filter((name) => !text.includes(`\`${name}\``));

describe('README configuration table', () => {
  it('lists every gateway environment variable', () => {
    expect(missingFrom(readme(), describeGatewayConfig())).toEqual([]);
  });

  it('lists every worker environment variable', () => {
    expect(missingFrom(readme(), describeWorkerConfig())).toEqual([]);
  });

  it('lists every sweeper environment variable', () => {
    expect(missingFrom(readme(), describeSweeperConfig())).toEqual([]);
  });
});

describe('README configuration table (API)', () => {
  it('lists every API environment variable', () => {
    expect(missingFrom(readme(), describeApiConfig())).toEqual([]);
  });
});
