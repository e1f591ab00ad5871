import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Names of the scripts in the package's `lua/` folder. */
export type ScriptName =
  | 'touch'
  | 'late-done'
  | 'claim'
  | 'release'
  | 'reannounce'
  | 'takeover'
  | 'advance'
  | 'close-http'
  | 'open-http'
  | 'epoch';

type Arg = string | Buffer | number;

/**
 * A Lua script read once from `lua/<name>.lua` (next to src/ and dist/ alike, includes resolved, see
 * {@link luaSource}) and run with EVALSHA.
 * On NOSCRIPT (a restarted or flushed Redis, or a new replica) it falls back to EVAL, which also
 * caches the script on the server again.
 */
export interface LuaScript {
  readonly name: ScriptName;
  readonly sha1: string;
  run(redis: Redis, keys: readonly string[], args: readonly Arg[]): Promise<unknown>;
}

const cache = new Map<ScriptName, LuaScript>();

const INCLUDE = /^-- #include ([\w-]+)$/gm;

/**
 * The text of `lua/<name>.lua` with every `-- #include <lib>` line replaced by `lua/lib/<lib>.lua`
 * (Redis scripts cannot load each other: shared functions are pasted in when a script is read).
 */
export function luaSource(name: ScriptName): string {
  const read = (path: string) => readFileSync(new URL(`../lua/${path}.lua`, import.meta.url), 'utf8');
  return read(name).replace(INCLUDE, (_line, lib: string) => read(`lib/${lib}`).trimEnd());
}

/** Returns the script `name`, reading its file on first use only. */
export function luaScript(name: ScriptName): LuaScript {
  let script = cache.get(name);
  if (script === undefined) {
    const source = luaSource(name);
    const sha1 = createHash('sha1').update(source).digest('hex');
    script = {
      name,
      sha1,
      async run(redis, keys, args) {
        try {
          return await redis.evalsha(sha1, keys.length, ...keys, ...args);
        } catch (err) {
          if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
          return await redis.eval(source, keys.length, ...keys, ...args);
        }
      },
    };
    cache.set(name, script);
  }
  return script;
}
