import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  acceptsGzip,
  BadGzipError,
  BodyTooLargeError,
  gunzipLimited,
  mediaType,
  requestEncoding,
} from './http-encoding.js';

describe('http encoding helpers', () => {
  it('reads the media type without parameters', () => {
    expect(mediaType('Application/X-Protobuf; charset=binary')).toBe('application/x-protobuf');
    expect(mediaType('')).toBe('');
  });

  it('knows which request encodings it can read', () => {
    expect(requestEncoding('')).toBe('identity');
    expect(requestEncoding('GZIP')).toBe('gzip');
    expect(requestEncoding('br')).toBeNull();
  });

  it.each([
    ['', false],
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.0, identity', false],
    ['*', false],
    ['br', false],
  ])('acceptsGzip(%j) is %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('inflates within the limit and stops beyond it', async () => {
    const data = Buffer.alloc(1000, 7);
    expect(Buffer.from(await gunzipLimited(gzipSync(data), 1000)).equals(data)).toBe(true);
    await expect(gunzipLimited(gzipSync(data), 999)).rejects.toBeInstanceOf(BodyTooLargeError);
    await expect(gunzipLimited(Buffer.from('nope'), 1000)).rejects.toBeInstanceOf(BadGzipError);
  });
});
