import { describe, expect, it } from 'vitest';
import { DecodeError, type DecodeErrorCode } from './decode-error.js';
import { DEFAULT_CODEC_LIMITS, resolveCodecLimits } from './limits.js';
import { wsFrameData } from './ws-frame.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
// A protobuf AgentToServer fragment: field 2 (sequence_num) = 5.
const DATA = bytes(0x10, 0x05);

describe('wsFrameData', () => {
  it.each([
    ['0x00 header', bytes(0x00, ...DATA), DATA],
    ['legacy frame without header (first byte is a protobuf tag)', DATA, DATA],
    [
      'legacy frame starting with a multi-byte tag (field 16)',
      bytes(0x80, 0x01, 0x05),
      bytes(0x80, 0x01, 0x05),
    ],
    ['two-byte encoding of header 0', bytes(0x80, 0x00, ...DATA), DATA],
    ['ten-byte encoding of header 0', bytes(...new Array(9).fill(0x80), 0x00, ...DATA), DATA],
    [
      'leading bytes that are not a varint (legacy, decoded later)',
      bytes(...new Array(11).fill(0xff)),
      bytes(...new Array(11).fill(0xff)),
    ],
  ])('%s', (_name, frame, expected) => {
    expect(wsFrameData(frame, DEFAULT_CODEC_LIMITS)).toEqual(expected);
  });

  it('returns a view, not a copy', () => {
    const frame = bytes(0x00, ...DATA);
    const data = wsFrameData(frame, DEFAULT_CODEC_LIMITS);
    expect(data.buffer).toBe(frame.buffer);
    expect(data.byteOffset).toBe(1);
  });

  it.each<[string, Uint8Array, DecodeErrorCode]>([
    ['empty frame', bytes(), 'empty'],
    ['header only', bytes(0x00), 'empty'],
    ['multi-byte zero header only', bytes(0x80, 0x00), 'empty'],
    ['header 1', bytes(0x01, ...DATA), 'bad_header'],
    ['header 7', bytes(0x07, ...DATA), 'bad_header'],
    ['multi-byte header 1', bytes(0x81, 0x00, ...DATA), 'bad_header'],
    ['multi-byte header 3', bytes(0x83, 0x80, 0x00, ...DATA), 'bad_header'],
  ])('rejects %s with %s', (_name, frame, code) => {
    expect(() => wsFrameData(frame, DEFAULT_CODEC_LIMITS)).toThrow(expect.objectContaining({ code }));
    expect(() => wsFrameData(frame, DEFAULT_CODEC_LIMITS)).toThrow(DecodeError);
  });

  it('checks the size limit on header + data before anything else', () => {
    const limits = resolveCodecLimits({ maxMessageBytes: 3 });
    expect(wsFrameData(bytes(0x00, 0x10, 0x05), limits)).toEqual(DATA);
    expect(() => wsFrameData(bytes(0x00, 0x10, 0x05, 0x00), limits)).toThrow(
      expect.objectContaining({ code: 'too_large' }),
    );
    expect(() => wsFrameData(bytes(0x01, 0x01, 0x01, 0x01), limits)).toThrow(
      expect.objectContaining({ code: 'too_large' }),
    );
  });
});

describe('resolveCodecLimits', () => {
  it('merges overrides onto the defaults', () => {
    expect(DEFAULT_CODEC_LIMITS).toEqual({ maxMessageBytes: 64 * 1024 * 1024, maxAnyValueDepth: 32 });
    expect(resolveCodecLimits({ maxAnyValueDepth: 8 })).toEqual({
      maxMessageBytes: 64 * 1024 * 1024,
      maxAnyValueDepth: 8,
    });
    expect(Object.isFrozen(resolveCodecLimits())).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %s, naming the option', (value) => {
    expect(() => resolveCodecLimits({ maxMessageBytes: value })).toThrow(/CodecLimits\.maxMessageBytes/);
    expect(() => resolveCodecLimits({ maxAnyValueDepth: value })).toThrow(RangeError);
  });
});
