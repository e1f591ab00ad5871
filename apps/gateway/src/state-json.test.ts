import { createHash } from 'node:crypto';
import {
  decodeAgentToServer,
  encodeAgentToServer,
  extractStateFields,
  newInstanceUid,
} from '@opamp-fleet/opamp';
import { describe, expect, it } from 'vitest';
import {
  anyValueToJson,
  attributesToJson,
  effectiveConfigHash,
  healthToJson,
  reportedState,
} from './state-json.js';

/** A 64-bit integer given as its decimal string (protobufjs encodes strings through Long). */
const int64 = (decimal: string) => decimal as unknown as number;

/** Round-trips through the codec, so values have the decoded shapes (Long, oneof defaults). */
function decoded(fields: Parameters<typeof encodeAgentToServer>[0]) {
  return decodeAgentToServer(encodeAgentToServer({ instanceUid: newInstanceUid(), ...fields }));
}

describe('anyValueToJson', () => {
  it('converts every AnyValue case as decoded from the wire', () => {
    const msg = decoded({
      agentDescription: {
        identifyingAttributes: [
          { key: 's', value: { stringValue: 'x' } },
          { key: 'empty', value: { stringValue: '' } },
          { key: 'b', value: { boolValue: false } },
          { key: 'i', value: { intValue: -42 } },
          { key: 'big', value: { intValue: int64('9007199254740993') } },
          { key: 'neg', value: { intValue: int64('-9223372036854775808') } },
          { key: 'd', value: { doubleValue: 1.5 } },
          { key: 'inf', value: { doubleValue: Number.POSITIVE_INFINITY } },
          { key: 'bytes', value: { bytesValue: new Uint8Array([0, 1, 255]) } },
          { key: 'unset', value: {} },
          { key: 'none' },
        ],
        nonIdentifyingAttributes: [
          {
            key: 'list',
            value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'two' }, { arrayValue: {} }] } },
          },
          {
            key: 'map',
            value: {
              kvlistValue: {
                values: [
                  { key: 'a', value: { boolValue: true } },
                  { key: 'a', value: { stringValue: 'last wins' } },
                  { key: '__proto__', value: { stringValue: 'own property' } },
                ],
              },
            },
          },
        ],
      },
    });
    const { description } = reportedState(msg.raw, undefined)!;
    expect(description!.identifying).toEqual({
      s: 'x',
      empty: '',
      b: false,
      i: -42,
      big: '9007199254740993',
      neg: '-9223372036854775808',
      d: 1.5,
      inf: 'Infinity',
      bytes: 'AAH/',
      unset: null,
      none: null,
    });
    const map = description!.nonIdentifying.map as Record<string, unknown>;
    expect(description!.nonIdentifying.list).toEqual([1, 'two', []]);
    expect(map.a).toBe('last wins');
    expect(Object.hasOwn(map, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
  });

  it('accepts plain objects and numbers as well', () => {
    expect(anyValueToJson(null)).toBeNull();
    expect(anyValueToJson({ intValue: 2 ** 60 })).toBe(String(2 ** 60));
    expect(anyValueToJson({ doubleValue: Number.NaN })).toBe('NaN');
    expect(attributesToJson(undefined)).toEqual({});
    expect(attributesToJson([{ value: { stringValue: 'no key' } }])).toEqual({ '': 'no key' });
  });
});

describe('healthToJson', () => {
  it('converts nested component health, times in ms, and omits empty fields', () => {
    const ns = int64('1700000000123456789');
    const msg = decoded({
      health: {
        healthy: true,
        startTimeUnixNano: ns,
        status: 'StatusOK',
        componentHealthMap: {
          'pipeline:traces': {
            healthy: false,
            lastError: 'exporter failed',
            statusTimeUnixNano: ns,
            componentHealthMap: { 'exporter:otlp': { healthy: false, status: 'down' } },
          },
        },
        attributes: [{ key: 'k', value: { intValue: 3 } }],
      },
    });
    expect(healthToJson(msg.raw.health!)).toEqual({
      healthy: true,
      status: 'StatusOK',
      startTimeMs: 1_700_000_000_123,
      components: {
        'pipeline:traces': {
          healthy: false,
          lastError: 'exporter failed',
          statusTimeMs: 1_700_000_000_123,
          components: { 'exporter:otlp': { healthy: false, status: 'down' } },
        },
      },
      attributes: { k: 3 },
    });
    expect(healthToJson({})).toEqual({ healthy: false });
    expect(healthToJson({ healthy: true, startTimeUnixNano: 5_000_000 })).toEqual({
      healthy: true,
      startTimeMs: 5,
    });
  });
});

describe('reportedState', () => {
  it('hashes the encoded EffectiveConfig, and is null for a message without state', () => {
    const msg = decoded({
      effectiveConfig: {
        configMap: { configMap: { '': { body: Buffer.from('receivers: {}'), contentType: 'text/yaml' } } },
      },
    });
    const bytes = extractStateFields(msg).effectiveConfig!;
    const want = createHash('sha256').update(bytes).digest('hex');
    expect(effectiveConfigHash(bytes)).toBe(want);
    expect(reportedState(msg.raw, bytes)).toEqual({ effectiveConfigHash: want });
    expect(reportedState(decoded({}).raw, undefined)).toBeNull();
  });
});
