import { describe, expect, it } from 'vitest';
import {
  decodeAgentToServer,
  decodeWsFrame,
  decodeWsServerFrame,
  encodeWsAgentFrame,
  encodeWsFrame,
} from './codec.js';
import { DecodeError } from './decode-error.js';
import { needsFullState } from './full-state.js';
import { resolveCodecLimits } from './limits.js';
import { ackReply, badRequestReply, unavailableReply } from './replies.js';
import { COMPRESSIBLE_FIELDS, decodeStoredField, extractStateFields } from './state.js';
import { nestedAttributePayload, nestedHealthPayload, TEST_UID, withWsHeader } from './testing.js';

/** mulberry32: a small seeded PRNG, so every failure is reproducible from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const ITERATIONS = 4000;
const limits = resolveCodecLimits({ maxMessageBytes: 4096, maxAnyValueDepth: 8 });

const corpus: Uint8Array[] = [
  encodeWsAgentFrame({
    instanceUid: TEST_UID,
    sequenceNum: 3,
    capabilities: 0x3803,
    agentDescription: {
      identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'io.example' } }],
      nonIdentifyingAttributes: [
        { key: 'n', value: { intValue: -5 } },
        { key: 'd', value: { doubleValue: 1.5 } },
        {
          key: 'l',
          value: { arrayValue: { values: [{ boolValue: true }, { bytesValue: new Uint8Array(3) }] } },
        },
      ],
    },
    health: { healthy: true, startTimeUnixNano: 99, componentHealthMap: { a: { status: 'ok' } } },
    effectiveConfig: {
      configMap: { configMap: { '': { body: new Uint8Array(8), contentType: 'text/yaml' } } },
    },
    remoteConfigStatus: { lastRemoteConfigHash: new Uint8Array(4), status: 1 },
    packageStatuses: { packages: { p: { name: 'p', status: 2 } } },
    customCapabilities: { capabilities: ['io.example/v1'] },
    availableComponents: { hash: new Uint8Array(2), components: { r: { metadata: [{ key: 'k' }] } } },
    connectionSettingsStatus: { status: 3 },
    agentDisconnect: {},
    flags: 1,
  }),
  encodeWsAgentFrame({ instanceUid: new TextEncoder().encode('01ARZ3NDEKTSV4RRFFQ69G5FAV'), sequenceNum: 1 }),
  withWsHeader(nestedAttributePayload(12, 'kvlist')),
  withWsHeader(nestedHealthPayload(12)),
];

function mutate(random: () => number, input: Uint8Array): Uint8Array {
  const bytes = Array.from(input);
  const edits = 1 + Math.floor(random() * 2);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const kind = Math.floor(random() * 5);
    if (kind === 0) bytes[at] = Math.floor(random() * 256);
    else if (kind === 1) bytes.splice(at, 1);
    else if (kind === 2) bytes.splice(at, 0, Math.floor(random() * 256));
    else if (kind === 3) bytes.length = Math.min(bytes.length, at);
    else bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(random() * 16)));
  }
  return Uint8Array.from(bytes);
}

function randomBytes(random: () => number): Uint8Array {
  const out = new Uint8Array(Math.floor(random() * 64));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Runs `fn`; anything thrown other than a DecodeError fails the test with the seed and input. */
function onlyDecodeErrors<T>(seed: number, input: Uint8Array, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw new Error(
      `seed ${seed}: non-DecodeError for ${Buffer.from(input).toString('hex')}: ${String(err)}`,
    );
  }
}

describe('fuzz: nothing but DecodeError leaves the codec', () => {
  it.each([
    ['random bytes', 1],
    ['mutated valid frames', 2],
  ])('%s (seed %i)', (name, seed) => {
    const random = prng(seed);
    const outcomes = { decoded: 0, rejected: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const input =
        name === 'random bytes'
          ? randomBytes(random)
          : mutate(random, corpus[i % corpus.length] as Uint8Array);
      const msg = onlyDecodeErrors(seed, input, () => decodeWsFrame(input, limits));
      onlyDecodeErrors(seed, input, () => decodeAgentToServer(input.subarray(1), limits));
      onlyDecodeErrors(seed, input, () => decodeWsServerFrame(input, limits));
      if (!msg) {
        outcomes.rejected++;
        continue;
      }
      outcomes.decoded++;
      // Everything downstream of a successful decode must cope with the result too.
      expect(Number.isSafeInteger(msg.sequenceNum) && Number.isSafeInteger(msg.capabilities)).toBe(true);
      needsFullState(null, msg);
      for (const [field, bytes] of Object.entries(extractStateFields(msg))) {
        if (field === 'agentDescription' || field === 'health') decodeStoredField(field, bytes, limits);
      }
      encodeWsFrame(ackReply(msg.uid));
    }
    // Both paths were exercised.
    if (name !== 'random bytes') expect(outcomes.decoded, JSON.stringify(outcomes)).toBeGreaterThan(200);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });

  it('stored state decoding throws only DecodeError (seed 3)', () => {
    const random = prng(3);
    for (let i = 0; i < ITERATIONS; i++) {
      const field = COMPRESSIBLE_FIELDS[i % COMPRESSIBLE_FIELDS.length]!;
      const input = randomBytes(random);
      onlyDecodeErrors(3, input, () => decodeStoredField(field, input));
    }
  });

  it('error replies encode for any echoed uid', () => {
    expect(encodeWsFrame(badRequestReply(undefined, 'bad')).length).toBeGreaterThan(1);
    expect(encodeWsFrame(unavailableReply(TEST_UID, 30_000)).length).toBeGreaterThan(1);
  });
});
