import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeGatewayConfig } from './gateway.js';

describe('README configuration table', () => {
  it('lists every gateway environment variable', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const missing = describeGatewayConfig()
      .map((d) => d.name)
      .filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
