import { ArgsError } from './args-error.js';

/** `raw` as an integer within 1..max, `fallback` when absent. */
export function positiveInteger(
  name: string,
  raw: string | undefined,
  fallback: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ArgsError(`--${name} must be a positive integer, got "${raw}"`);
  const value = Number(raw);
  if (value < 1 || value > max) throw new ArgsError(`--${name} must be within 1..${max}, got ${value}`);
  return value;
}

/** `raw` as a finite number > 0, `fallback` when absent. */
export function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new ArgsError(`--${name} must be a positive number, got "${raw}"`);
  }
  return value;
}

/** `raw` if it is one of `allowed`, null when absent. */
export function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
): T | null {
  if (raw === undefined) return null;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ArgsError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** `raw` as a normalized ws:// or wss:// URL, null when absent. */
export function websocketUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ArgsError(`--target must be a URL like ws://127.0.0.1:4320/v1/opamp, got "${raw}"`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ArgsError(`--target must use ws:// or wss://, got "${url.protocol}//"`);
  }
  return url.toString();
}
