import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'AgentCapabilities',
        'AgentToServerFlags',
        'COMPRESSIBLE_FIELDS',
        'DEFAULT_CODEC_LIMITS',
        'DecodeError',
        'REPLACED_CLOSE_REASON',
        'SERVER_CAPABILITIES',
        'ServerCapabilities',
        'ServerErrorResponseType',
        'ServerToAgentFlags',
        'ackReply',
        'badRequestReply',
        'decideDuplicate',
        'decodeAgentToServer',
        'decodeServerToAgent',
        'decodeStoredField',
        'decodeWsFrame',
        'decodeWsServerFrame',
        'encodeAckBody',
        'encodeAgentToServer',
        'encodeServerToAgent',
        'encodeWsAgentFrame',
        'encodeWsAckFrame',
        'encodeWsFrame',
        'extractStateFields',
        'hasCapability',
        'isCompressibleField',
        'isFullState',
        'mergeState',
        'needsFullState',
        'newInstanceUid',
        'opamp',
        'opampSettingsOffer',
        'parseInstanceUid',
        'pb',
        'resolveCodecLimits',
        'uidBytesToId',
        'uidBytesToUlid',
        'uidIdToBytes',
        'uidMatchesId',
        'uint64ToBitmask',
        'uint64ToCounter',
        'unavailableReply',
        'withNewInstanceUid',
        'withOpampSettings',
      ].sort(),
    );
  });

  it('exposes the generated namespace', () => {
    expect(api.pb).toBe(api.opamp.proto.v1);
    expect(typeof api.pb.AgentToServer.decode).toBe('function');
  });
});
