import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { decodeAgentToServer, decodeWsFrame, encodeAgentToServer } from './codec.js';
import { DecodeError } from './decode-error.js';
import { DEFAULT_CODEC_LIMITS, resolveCodecLimits } from './limits.js';
import { pb } from './proto.js';
import { decodeStoredField, extractStateFields } from './state.js';
import {
  nestedAttributePayload,
  nestedGroupsPayload,
  nestedHealthPayload,
  TEST_UID,
  withWsHeader,
} from './testing.js';

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('expected a DecodeError');
}

describe('protobufjs 8.8.1 static decoding (the code path we use)', () => {
  it('enforces Reader.recursionLimit (100 message levels) with Error("max depth exceeded")', () => {
    expect(protobuf.Reader.recursionLimit).toBe(100);
    const payload = nestedAttributePayload(5000);
    expect(() => pb.AgentToServer.decode(payload)).toThrow('max depth exceeded');
    // No RangeError (stack overflow) reaches the caller.
    expect(() => pb.AgentToServer.decode(payload)).not.toThrow(RangeError);
  });
});

describe('deeply nested payloads are rejected as too_deep, never a stack overflow', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['5000 nested array values', nestedAttributePayload(5000, 'array')],
    ['5000 nested kvlist values', nestedAttributePayload(5000, 'kvlist')],
    ['50000 nested array values', nestedAttributePayload(50_000, 'array')],
    ['5000 nested component_health_map levels', nestedHealthPayload(5000)],
    ['5000 nested unknown groups', nestedGroupsPayload(5000)],
  ];

  it.each(cases)('%s', (_name, payload) => {
    expect(payload.length).toBeGreaterThan(20_000);
    const error = decodeError(() => decodeAgentToServer(payload));
    expect(error.code).toBe('too_deep');
    expect(error.uid).toEqual(TEST_UID); // still echoable in a BAD_REQUEST reply
    expect(decodeError(() => decodeWsFrame(withWsHeader(payload))).code).toBe('too_deep');
  });
});

describe('maxAnyValueDepth in attributes', () => {
  const max = DEFAULT_CODEC_LIMITS.maxAnyValueDepth;

  it.each(['array', 'kvlist'] as const)(
    'accepts %s nesting at the limit and rejects one level more',
    (kind) => {
      expect(decodeAgentToServer(nestedAttributePayload(max, kind)).uid.bytes).toEqual(TEST_UID);
      const error = decodeError(() => decodeAgentToServer(nestedAttributePayload(max + 1, kind)));
      expect(error.code).toBe('too_deep');
      expect(error.message).toContain('agent_description');
      expect(error.uid).toEqual(TEST_UID);
    },
  );

  it('applies a configured limit (depth 1 = scalar values only)', () => {
    const limits = resolveCodecLimits({ maxAnyValueDepth: 1 });
    expect(decodeAgentToServer(nestedAttributePayload(1), limits).raw.agentDescription).not.toBeNull();
    expect(decodeError(() => decodeAgentToServer(nestedAttributePayload(2), limits)).code).toBe('too_deep');
  });

  const deepValue = (depth: number) => {
    let value: object = { stringValue: 'leaf' };
    for (let i = 1; i < depth; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
    return value;
  };
  const limits = resolveCodecLimits({ maxAnyValueDepth: 3 });
  const attrs = (depth: number) => [
    { key: 'a', value: { stringValue: 'flat' } },
    { key: 'b' },
    { key: 'c', value: deepValue(depth) },
  ];

  it.each([
    [
      'non_identifying_attributes',
      (d: number) => ({ agentDescription: { nonIdentifyingAttributes: attrs(d) } }),
      'agent_description',
    ],
    ['health attributes', (d: number) => ({ health: { attributes: attrs(d) } }), 'health'],
    [
      'nested component health attributes',
      (d: number) => ({
        health: { componentHealthMap: { a: {}, b: { componentHealthMap: { c: { attributes: attrs(d) } } } } },
      }),
      'health',
    ],
    [
      'available components metadata',
      (d: number) => ({ availableComponents: { components: { r: { metadata: attrs(d) } } } }),
      'available_components',
    ],
    [
      'nested sub-component metadata',
      (d: number) => ({
        availableComponents: { components: { r: { subComponentMap: { s: { metadata: attrs(d) } } } } },
      }),
      'available_components',
    ],
  ])('checks %s', (_name, build, where) => {
    const encode = (depth: number) => encodeAgentToServer({ instanceUid: TEST_UID, ...build(depth) });
    expect(decodeAgentToServer(encode(3), limits).uid.bytes).toEqual(TEST_UID);
    const error = decodeError(() => decodeAgentToServer(encode(4), limits));
    expect([error.code, error.message.includes(where)]).toEqual(['too_deep', true]);
  });

  it('array values nest through arrayValue as well', () => {
    const value = {
      arrayValue: { values: [{ stringValue: 'x' }, { arrayValue: { values: [{ arrayValue: {} }] } }] },
    };
    const data = encodeAgentToServer({
      instanceUid: TEST_UID,
      agentDescription: { identifyingAttributes: [{ key: 'k', value }] },
    });
    expect(decodeAgentToServer(data, limits).raw.agentDescription).not.toBeNull();
    expect(
      decodeError(() => decodeAgentToServer(data, resolveCodecLimits({ maxAnyValueDepth: 2 }))).code,
    ).toBe('too_deep');
  });

  it('decodeStoredField applies the same limit to stored state', () => {
    const stored = extractStateFields(decodeAgentToServer(nestedAttributePayload(4))).agentDescription!;
    expect(decodeStoredField('agentDescription', stored).identifyingAttributes).toHaveLength(1);
    expect(decodeError(() => decodeStoredField('agentDescription', stored, limits)).code).toBe('too_deep');
  });
});
