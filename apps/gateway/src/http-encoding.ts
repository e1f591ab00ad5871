import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** The request body decompressed beyond the size limit. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** The request body is not valid gzip. */
export class BadGzipError extends Error {
  override readonly name = 'BadGzipError';
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string): string {
  if (contentType === 'application/x-protobuf') return contentType; // what agents send
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Content-Encoding of a request body we can read: identity or gzip; null for anything else. */
export function requestEncoding(contentEncoding: string): 'identity' | 'gzip' | null {
  const v = contentEncoding.trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  return null;
}

/** True when Accept-Encoding lists gzip explicitly with q > 0 (as opamp-go decides). */
export function acceptsGzip(acceptEncoding: string): boolean {
  if (acceptEncoding === '') return false;
  for (const item of acceptEncoding.split(',')) {
    const [coding, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * Decompresses a gzip body, stopping at `maxBytes` of output (a zip bomb never inflates past it).
 * Throws BodyTooLargeError over the limit and BadGzipError for invalid data.
 */
export async function gunzipLimited(body: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BodyTooLargeError(`body inflates beyond ${maxBytes} bytes`);
    }
    throw new BadGzipError(`invalid gzip body: ${(err as Error).message}`);
  }
}

export function gzipBody(body: Uint8Array): Promise<Uint8Array> {
  return gzipAsync(body);
}
