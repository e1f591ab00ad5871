import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { pingRedis } from './fixtures/probe.js';
import { detectRedis, type Source } from './fixtures/sources.js';
import setup, { resolveSources } from './global-setup.js';

describe('global setup', () => {
  it('provided a usable source for both servers to this run', () => {
    const sources = inject('testkitSources');
    expect(sources.redis.kind).toBe('url');
    expect(sources.postgres.kind).toBe('url');
  });

  it('starts one shared private server of each when only the binaries exist, and stops them', async () => {
    const privateOnly = async (): Promise<Source> => ({ kind: 'private', from: 'binaries' });
    const { sources, stop } = await resolveSources({ redis: privateOnly, postgres: privateOnly });
    try {
      expect(sources.redis).toMatchObject({ kind: 'url', origin: 'global-setup' });
      expect(sources.postgres).toMatchObject({ kind: 'url', origin: 'global-setup' });
      const redisUrl = new URL((sources.redis as { url: string }).url);
      expect(await pingRedis(redisUrl.hostname, Number(redisUrl.port))).toBe(true);
      const sql = postgres((sources.postgres as { url: string }).url, { max: 1, onnotice: () => {} });
      expect((await sql`select 1 as one`)[0]?.one).toBe(1);
      await sql.end();
    } finally {
      await stop();
    }
    const redisUrl = new URL((sources.redis as { url: string }).url);
    expect(await pingRedis(redisUrl.hostname, Number(redisUrl.port))).toBe(false);
  });

  it('never throws: failures become unavailable sources with the reason', async () => {
    const { sources, stop } = await resolveSources({
      redis: async () => ({ kind: 'unavailable', reason: 'no Redis here' }),
      postgres: async () => {
        throw new Error('probe crashed');
      },
    });
    expect(sources.redis).toEqual({ kind: 'unavailable', reason: 'no Redis here' });
    expect(sources.postgres).toMatchObject({ kind: 'unavailable', reason: 'Error: probe crashed' });
    await stop();
  });

  it('the default export provides the detected sources', async () => {
    const provided: Record<string, unknown> = {};
    const project = {
      provide: (key: string, value: unknown) => {
        provided[key] = value;
      },
    };
    const teardown = await setup(project as never);
    expect(provided.testkitSources).toMatchObject({ redis: { kind: 'url' }, postgres: { kind: 'url' } });
    await teardown();
  });

  it('prefers REDIS_URL from the environment', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://example.invalid:1';
    try {
      expect(await detectRedis()).toEqual({ kind: 'url', url: 'redis://example.invalid:1', origin: 'env' });
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });
});
