import { describe, expect, it } from 'vitest';
import type { Service, Source } from './fixtures/sources.js';
import { resolveSources } from './global-setup.js';

describe('resolveSources with a Docker engine only', () => {
  it('starts one container per service for the run, provides its URL, and stops it on teardown', async () => {
    const calls: string[] = [];
    const container = async (): Promise<Source> => ({ kind: 'private', from: 'container' });
    const start = async (service: Service, from: 'binaries' | 'container') => {
      calls.push(`start ${service} ${from}`);
      return {
        url: `${service}://container.test:1`,
        stop: async () => {
          calls.push(`stop ${service}`);
        },
      };
    };
    const { sources, stop } = await resolveSources({ redis: container, postgres: container }, start);
    expect(sources).toEqual({
      redis: { kind: 'url', url: 'redis://container.test:1', origin: 'global-setup' },
      postgres: { kind: 'url', url: 'postgres://container.test:1', origin: 'global-setup' },
    });
    expect(calls.sort()).toEqual(['start postgres container', 'start redis container']);
    await stop();
    expect(calls.slice(2).sort()).toEqual(['stop postgres', 'stop redis']);
  });

  it('reports a container that fails to start as unavailable, with the reason', async () => {
    const { sources, stop } = await resolveSources(
      {
        redis: async () => ({ kind: 'private', from: 'container' }),
        postgres: async () => ({ kind: 'url', url: 'postgres://db.test/x', origin: 'env' }),
      },
      async () => {
        throw new Error('Could not find a working container runtime strategy');
      },
    );
    expect(sources.redis).toEqual({
      kind: 'unavailable',
      reason: 'Error: Could not find a working container runtime strategy',
    });
    expect(sources.postgres).toEqual({ kind: 'url', url: 'postgres://db.test/x', origin: 'env' });
    await stop();
  });
});
