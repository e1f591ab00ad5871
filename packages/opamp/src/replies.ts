import { createHash } from 'node:crypto';
import Long from 'long';
import {
  AgentCapabilities,
  hasCapability,
  ServerCapabilities,
  ServerErrorResponseType,
} from './constants.js';
import type { InstanceUid } from './instance-uid.js';
import { uidBytesToUlid } from './instance-uid.js';
import { type ConnectionSettingsOffers, pb, type ServerToAgentInit } from './proto.js';

/**
 * What this server implements, sent in ServerToAgent.capabilities:
 * - AcceptsStatus: mandatory; we keep each agent's reported status.
 * - AcceptsEffectiveConfig: effective_config is stored like the other status sub-messages.
 * - OffersConnectionSettings: we offer `connection_settings.opamp` (the heartbeat interval), and only
 *   to agents with AcceptsOpAMPConnectionSettings (see withOpampSettings).
 * Not set: remote config, packages, package statuses, CSR - not implemented, so not advertised.
 */
export const SERVER_CAPABILITIES =
  ServerCapabilities.AcceptsStatus |
  ServerCapabilities.AcceptsEffectiveConfig |
  ServerCapabilities.OffersConnectionSettings;

/** Reason given when an older connection of the same agent is closed in favour of a newer one. */
export const REPLACED_CLOSE_REASON = 'replaced';

const UID_BYTES = 16;
const NANOS_PER_MS = 1_000_000;
/** Largest whole number of milliseconds whose nanoseconds fit in a uint64 (about 584 years). */
const MAX_RETRY_AFTER_MS = 18_446_744_073_709;

function echo(uid: InstanceUid | Uint8Array): Uint8Array {
  return uid instanceof Uint8Array ? uid : uid.bytes;
}

/**
 * The normal reply: echoes instance_uid (bytes exactly as received) and always sets capabilities
 * (mandatory in the first reply on a connection, harmless later). `flags` e.g. ReportFullState.
 */
export function ackReply(
  uid: InstanceUid | Uint8Array,
  serverCaps: number = SERVER_CAPABILITIES,
  flags = 0,
): ServerToAgentInit {
  return { instanceUid: echo(uid), capabilities: serverCaps, flags };
}

/**
 * Reply to a malformed AgentToServer: error_response BadRequest plus instance_uid when it could be
 * read; every other field unset, as the spec requires when error_response is present.
 */
export function badRequestReply(uid: Uint8Array | undefined, message: string): ServerToAgentInit {
  const errorResponse = { type: ServerErrorResponseType.BadRequest, errorMessage: message };
  return uid ? { instanceUid: uid, errorResponse } : { errorResponse };
}

/**
 * Overload reply: error_response Unavailable with retry_info.retry_after_nanoseconds (exact uint64;
 * milliseconds are rounded up, and capped where nanoseconds would overflow a uint64). Throws
 * RangeError for a negative or non-finite delay.
 */
export function unavailableReply(
  uid: InstanceUid | Uint8Array,
  retryAfterMs: number,
  message = 'server is overloaded, retry later',
): ServerToAgentInit {
  if (!Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
    throw new RangeError(`retryAfterMs must be a finite number >= 0, got ${retryAfterMs}`);
  }
  const retryAfterNanoseconds = Long.fromNumber(
    Math.min(Math.ceil(retryAfterMs), MAX_RETRY_AFTER_MS),
    true,
  ).multiply(NANOS_PER_MS);
  return {
    instanceUid: echo(uid),
    errorResponse: {
      type: ServerErrorResponseType.Unavailable,
      errorMessage: message,
      retryInfo: { retryAfterNanoseconds },
    },
  };
}

/**
 * Adds agent_identification.new_instance_uid (16 bytes, e.g. newInstanceUid()). For a legacy agent
 * (one that sent a ULID string) the new uid is sent in the same ULID string form, which is what
 * such agents decode; both forms map to the same canonical id. Throws RangeError unless 16 bytes.
 */
export function withNewInstanceUid(
  reply: ServerToAgentInit,
  newUid: Uint8Array,
  options: { legacy?: boolean } = {},
): ServerToAgentInit {
  if (newUid.length !== UID_BYTES)
    throw new RangeError(`new instance uid must be 16 bytes, got ${newUid.length}`);
  const newInstanceUid = options.legacy ? uidBytesToUlid(newUid) : newUid;
  return { ...reply, agentIdentification: { newInstanceUid } };
}

/**
 * OpAMP connection settings we offer. `heartbeatIntervalSeconds` is required: opamp-go applies the
 * field as-is whenever `opamp` is present, and 0 (indistinguishable from unset in proto3) disables
 * heartbeats, so an offer must always mean its interval. `destinationEndpoint` is optional: agents that
 * act on an offer (the OpenTelemetry supervisor restarts its client with it) reject one without an
 * endpoint after opamp-go has already applied the interval, which makes an interval-only offer
 * the least disruptive; pass an endpoint only to move agents deliberately.
 */
export interface OpampSettings {
  readonly heartbeatIntervalSeconds: number;
  readonly destinationEndpoint?: string;
}

/** ConnectionSettingsOffers with `opamp` set and `hash` = SHA-256 of the encoded offer without hash. */
export function opampSettingsOffer(settings: OpampSettings): ConnectionSettingsOffers {
  const { heartbeatIntervalSeconds, destinationEndpoint } = settings;
  if (!Number.isSafeInteger(heartbeatIntervalSeconds) || heartbeatIntervalSeconds < 0) {
    throw new RangeError(`heartbeatIntervalSeconds must be an integer >= 0, got ${heartbeatIntervalSeconds}`);
  }
  const opamp = destinationEndpoint
    ? { heartbeatIntervalSeconds, destinationEndpoint }
    : { heartbeatIntervalSeconds };
  const encoded = pb.ConnectionSettingsOffers.encode({ opamp }).finish();
  return { opamp, hash: createHash('sha256').update(encoded).digest() };
}

/**
 * Adds connection_settings with the OpAMP settings offer, only when the agent has
 * AcceptsOpAMPConnectionSettings; otherwise returns `reply` unchanged (offers are gated on the
 * agent's capabilities). Replaces any connection_settings already in `reply`.
 */
export function withOpampSettings(
  reply: ServerToAgentInit,
  agentCapabilities: number,
  settings: OpampSettings,
): ServerToAgentInit {
  if (!hasCapability(agentCapabilities, AgentCapabilities.AcceptsOpAMPConnectionSettings)) return reply;
  return { ...reply, connectionSettings: opampSettingsOffer(settings) };
}
