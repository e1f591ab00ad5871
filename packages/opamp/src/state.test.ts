import { describe, expect, it } from 'vitest';
import { decodeAgentToServer, encodeAgentToServer } from './codec.js';
import { AgentCapabilities as Caps } from './constants.js';
import { DecodeError } from './decode-error.js';
import { isFullState, needsFullState } from './full-state.js';
import type { AgentToServerInit } from './proto.js';
import {
  COMPRESSIBLE_FIELDS,
  type CompressibleField,
  decodeStoredField,
  extractStateFields,
  isCompressibleField,
  mergeState,
} from './state.js';
import { TEST_UID } from './testing.js';

const agent = (init: AgentToServerInit) =>
  decodeAgentToServer(encodeAgentToServer({ instanceUid: TEST_UID, ...init }));
const description = {
  identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'io.example' } }],
};
const everything: AgentToServerInit = {
  agentDescription: description,
  health: { healthy: true, status: 'ok' },
  effectiveConfig: {
    configMap: { configMap: { '': { body: new TextEncoder().encode('a: 1'), contentType: 'text/yaml' } } },
  },
  remoteConfigStatus: { status: 1, lastRemoteConfigHash: new Uint8Array([1, 2]) },
  packageStatuses: { errorMessage: 'x' },
  customCapabilities: { capabilities: ['io.example/v1'] },
  availableComponents: { hash: new Uint8Array([9]) },
  connectionSettingsStatus: { status: 1 },
};

describe('extractStateFields / mergeState / decodeStoredField', () => {
  it('lists the eight compressible fields of the spec', () => {
    expect(COMPRESSIBLE_FIELDS).toEqual([
      'agentDescription',
      'health',
      'effectiveConfig',
      'remoteConfigStatus',
      'packageStatuses',
      'customCapabilities',
      'availableComponents',
      'connectionSettingsStatus',
    ]);
    expect(isCompressibleField('health')).toBe(true);
    expect(isCompressibleField('flags')).toBe(false);
  });

  it('re-encodes every present sub-message and round-trips it', () => {
    const fields = extractStateFields(agent(everything));
    expect(Object.keys(fields)).toEqual(COMPRESSIBLE_FIELDS);
    for (const name of COMPRESSIBLE_FIELDS) {
      const decoded = decodeStoredField(name, fields[name]!);
      expect(JSON.parse(JSON.stringify(decoded)), name).toEqual(
        JSON.parse(JSON.stringify(agent(everything).raw[name])),
      );
    }
  });

  it('omits absent sub-messages and keeps present-but-empty ones as empty bytes', () => {
    const fields = extractStateFields(agent({ remoteConfigStatus: {} }));
    expect(Object.keys(fields)).toEqual(['remoteConfigStatus']);
    expect(fields.remoteConfigStatus).toHaveLength(0);
    expect(decodeStoredField('remoteConfigStatus', fields.remoteConfigStatus!).status).toBe(0);
  });

  it('returns new buffers that do not share the decoded input', () => {
    const data = encodeAgentToServer({ instanceUid: TEST_UID, customCapabilities: { capabilities: ['a'] } });
    const fields = extractStateFields(decodeAgentToServer(data));
    data.fill(0);
    expect(decodeStoredField('customCapabilities', fields.customCapabilities!).capabilities).toEqual(['a']);
  });

  it('mergeState overlays reported fields; absent means unchanged; unknown stored keys survive', () => {
    const stored = {
      health: new Uint8Array([1]),
      agentDescription: new Uint8Array([2]),
      legacyKey: new Uint8Array([3]),
    };
    const merged = mergeState(stored, { health: new Uint8Array([4]), effectiveConfig: new Uint8Array(0) });
    expect(merged).toEqual({
      health: new Uint8Array([4]),
      agentDescription: new Uint8Array([2]),
      legacyKey: new Uint8Array([3]),
      effectiveConfig: new Uint8Array(0),
    });
    expect(stored.health).toEqual(new Uint8Array([1]));
  });

  it('decodeStoredField throws DecodeError for corrupt bytes or an unknown name', () => {
    expect(() => decodeStoredField('health', new Uint8Array([0x0a, 0x05]))).toThrow(
      expect.objectContaining({ name: 'DecodeError', code: 'malformed' }),
    );
    expect(() => decodeStoredField('flags' as CompressibleField, new Uint8Array(0))).toThrow(DecodeError);
  });

  it('decodeStoredField maps protobufjs recursion failures to too_deep', () => {
    expect(decodeStoredField('health', nestedHealth(50)).componentHealthMap).toHaveProperty('c');
    expect(() => decodeStoredField('health', nestedHealth(150))).toThrow(
      expect.objectContaining({ code: 'too_deep' }),
    );
  });
});

/** ComponentHealth bytes nested `depth` levels through component_health_map entries keyed "c". */
function nestedHealth(depth: number): Uint8Array {
  let inner: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < depth; i++) {
    const entry = concat([0x0a, 0x01, 0x63, 0x12], varint(inner.length), inner);
    inner = concat([0x32], varint(entry.length), entry);
  }
  return inner;
}
function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return out;
}
function concat(...parts: Array<ArrayLike<number>>): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => Array.from(part)));
}

describe('isFullState', () => {
  it('always requires agent_description', () => {
    expect(isFullState(agent({ capabilities: Caps.ReportsStatus }))).toBe(false);
    expect(isFullState(agent({ capabilities: Caps.ReportsStatus, agentDescription: description }))).toBe(
      true,
    );
  });

  it.each<[keyof typeof Caps, CompressibleField]>([
    ['ReportsHealth', 'health'],
    ['ReportsEffectiveConfig', 'effectiveConfig'],
    ['ReportsRemoteConfig', 'remoteConfigStatus'],
    ['ReportsPackageStatuses', 'packageStatuses'],
    ['ReportsAvailableComponents', 'availableComponents'],
  ])('requires %s -> %s', (capability, field) => {
    const capabilities = Caps.ReportsStatus | Caps[capability];
    const without = { ...everything, [field]: undefined };
    expect(isFullState(agent({ ...without, capabilities }))).toBe(false);
    expect(isFullState(agent({ ...without, capabilities: Caps.ReportsStatus }))).toBe(true);
    expect(isFullState(agent({ ...everything, capabilities }))).toBe(true);
  });

  it('does not require connection_settings_status or custom_capabilities', () => {
    const capabilities = Caps.ReportsStatus | Caps.ReportsConnectionSettingsStatus;
    expect(isFullState(agent({ agentDescription: description, capabilities }))).toBe(true);
  });

  it("treats Elastic's first message (description + empty remote_config_status, caps 0x3003) as full", () => {
    expect(
      isFullState(
        agent({
          sequenceNum: 1,
          capabilities: 0x3003,
          agentDescription: description,
          remoteConfigStatus: {},
        }),
      ),
    ).toBe(true);
  });
});

describe('needsFullState', () => {
  const heartbeat = (sequenceNum: number) => agent({ sequenceNum, capabilities: 0x2001 });
  const full = (sequenceNum: number) =>
    agent({ sequenceNum, capabilities: 0x2001, agentDescription: description });

  it.each([
    ['unknown agent, compressed message', null, heartbeat(4), true],
    ['unknown agent whose first message is full (opamp-go starts at 0)', null, full(0), false],
    ['unknown agent whose first message is full (Elastic starts at 1)', null, full(1), false],
    ['next in sequence', { sequenceNum: 4 }, heartbeat(5), false],
    ['gap', { sequenceNum: 4 }, heartbeat(6), true],
    ['repeat', { sequenceNum: 4 }, heartbeat(4), true],
    ['restart from 0', { sequenceNum: 4 }, heartbeat(0), true],
    ['gap, but the message is full', { sequenceNum: 4 }, full(9), false],
    [
      'clamped at MAX_SAFE_INTEGER',
      { sequenceNum: Number.MAX_SAFE_INTEGER },
      heartbeat(Number.MAX_SAFE_INTEGER),
      true,
    ],
  ])('%s', (_name, prev, msg, expected) => {
    expect(needsFullState(prev, msg)).toBe(expected);
  });
});
