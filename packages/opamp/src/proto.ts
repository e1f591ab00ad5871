/**
 * The generated protobuf code (static protobufjs module built from proto/*.proto) and short aliases
 * for the message types used across the project.
 */
import Long from 'long';
import protobuf from 'protobufjs/minimal.js';
import { opamp } from '../gen/opamp.js';

// protobufjs finds long.js with a CommonJS require that some loaders (vitest's module runner,
// bundlers) do not satisfy, and then silently decodes 64-bit fields as lossy numbers. Install it
// explicitly so uint64/fixed64/int64 always decode as Long, wherever this module is loaded.
if (protobuf.util.Long !== Long) {
  protobuf.util.Long = Long;
  protobuf.configure();
}

export { opamp };

/** The `opamp.proto.v1` namespace: message classes with static encode/decode and the enums. */
export const pb = opamp.proto.v1;

/** A decoded AgentToServer (sub-messages absent on the wire are `null`). */
export type AgentToServer = opamp.proto.v1.AgentToServer;
/** Plain-object form accepted by the AgentToServer encoder. */
export type AgentToServerInit = opamp.proto.v1.AgentToServer.$Properties;
/** A decoded ServerToAgent. */
export type ServerToAgent = opamp.proto.v1.ServerToAgent;
/** Plain-object form accepted by the ServerToAgent encoder (what reply builders return). */
export type ServerToAgentInit = opamp.proto.v1.ServerToAgent.$Properties;
export type AgentDescription = opamp.proto.v1.AgentDescription;
export type ComponentHealth = opamp.proto.v1.ComponentHealth;
export type EffectiveConfig = opamp.proto.v1.EffectiveConfig;
export type RemoteConfigStatus = opamp.proto.v1.RemoteConfigStatus;
export type PackageStatuses = opamp.proto.v1.PackageStatuses;
export type CustomCapabilities = opamp.proto.v1.CustomCapabilities;
export type AvailableComponents = opamp.proto.v1.AvailableComponents;
export type ConnectionSettingsStatus = opamp.proto.v1.ConnectionSettingsStatus;
export type ConnectionSettingsOffers = opamp.proto.v1.ConnectionSettingsOffers.$Properties;
export type KeyValue = opamp.proto.v1.KeyValue.$Properties;
export type AnyValue = opamp.proto.v1.AnyValue.$Properties;
