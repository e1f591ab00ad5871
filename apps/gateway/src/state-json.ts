/**
 * Agent state as plain JSON for agent_state events: attributes (AnyValue), component health and the
 * effective-config hash. Pure. Nesting is bounded by the codec (AnyValue depth limit, protobufjs
 * recursion limit), so the recursion here is too.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, KeyValue, Uint64 } from '@opamp-fleet/opamp';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The fields of a ComponentHealth (decoded, or in plain-object form). */
export interface HealthInput {
  healthy?: boolean | null;
  startTimeUnixNano?: Uint64 | null;
  lastError?: string | null;
  status?: string | null;
  statusTimeUnixNano?: Uint64 | null;
  componentHealthMap?: { [name: string]: HealthInput } | null;
  attributes?: KeyValue[] | null;
}

const TWO_32 = 0x1_0000_0000;
const NS_PER_MS = 1_000_000;

/**
 * One AnyValue as JSON: strings, booleans and doubles as they are (a non-finite double as its name,
 * JSON has none), an int64 as a number when it is a safe integer else as a decimal string, bytes as
 * base64, arrays as arrays, key-value lists as objects (a repeated key: the last one wins); an
 * AnyValue with no value set is null.
 */
export function anyValueToJson(v: AnyValue | null | undefined): Json {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return int64ToJson(v.intValue);
  if (v.doubleValue != null) return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.bytesValue != null) return Buffer.from(v.bytesValue).toString('base64');
  if (v.arrayValue != null) return (v.arrayValue.values ?? []).map((x) => anyValueToJson(x));
  if (v.kvlistValue != null) return attributesToJson(v.kvlistValue.values);
  return null;
}

/** Key-value attributes as one JSON object (own properties only, whatever the keys are). */
export function attributesToJson(list: readonly KeyValue[] | null | undefined): Record<string, Json> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key ?? '', anyValueToJson(kv.value)]));
}

/** The fields of an AgentDescription (decoded, or in plain-object form). */
export interface DescriptionInput {
  identifyingAttributes?: readonly KeyValue[] | null;
  nonIdentifyingAttributes?: readonly KeyValue[] | null;
}

/** The agent_description of an AgentToServer as identifying / non-identifying attribute objects. */
export function descriptionToJson(d: DescriptionInput): DescriptionJson {
  return {
    identifying: attributesToJson(d.identifyingAttributes),
    nonIdentifying: attributesToJson(d.nonIdentifyingAttributes),
  };
}

/**
 * ComponentHealth as JSON: `healthy` always; `status`, `lastError` when not empty; `startTimeMs`,
 * `statusTimeMs` (ms since the Unix epoch, from the nanosecond fields) when set; `components`
 * (the nested component map, recursively) and `attributes` when not empty.
 */
export function healthToJson(h: HealthInput): Json {
  const out: Record<string, Json> = { healthy: h.healthy === true };
  if (h.status) out.status = h.status;
  if (h.lastError) out.lastError = h.lastError;
  const start = nanosToMs(h.startTimeUnixNano);
  if (start > 0) out.startTimeMs = start;
  const statusTime = nanosToMs(h.statusTimeUnixNano);
  if (statusTime > 0) out.statusTimeMs = statusTime;
  const components = Object.entries(h.componentHealthMap ?? {});
  if (components.length > 0) {
    out.components = Object.fromEntries(components.map(([name, c]) => [name, healthToJson(c)]));
  }
  if (h.attributes != null && h.attributes.length > 0) out.attributes = attributesToJson(h.attributes);
  return out;
}

/** sha256 (hex) of the encoded EffectiveConfig as the agent sent it. */
export function effectiveConfigHash(encoded: Uint8Array): string {
  return createHash('sha256').update(encoded).digest('hex');
}

/** A uint64 nanosecond timestamp in whole ms (0 when unset). Precision below 1 µs is irrelevant here. */
function nanosToMs(value: Uint64 | null | undefined): number {
  if (value == null) return 0;
  const ns = typeof value === 'number' ? value : (value.high >>> 0) * TWO_32 + (value.low >>> 0);
  return Math.floor(ns / NS_PER_MS);
}

/** A signed int64 as a number when safe, else as its exact decimal string. */
function int64ToJson(value: Uint64): number | string {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : String(value);
  const n = value.toNumber();
  return Number.isSafeInteger(n) ? n : value.toString();
}

/** Attributes of an agent_description as JSON. */
export interface DescriptionJson {
  identifying: Record<string, Json>;
  nonIdentifying: Record<string, Json>;
}

/** What a message reports about the agent's state, as JSON (absent = not reported). */
export interface ReportedState {
  description?: DescriptionJson;
  health?: Json;
  effectiveConfigHash?: string;
}

/**
 * The state parts of one message as JSON (description, health, effective-config hash), or null when
 * it reports none of them. `effectiveConfig` is the encoded EffectiveConfig when the message has one.
 */
export function reportedState(
  raw: { agentDescription?: DescriptionInput | null; health?: HealthInput | null },
  effectiveConfig: Uint8Array | undefined,
): ReportedState | null {
  const part: ReportedState = {};
  if (raw.agentDescription != null) part.description = descriptionToJson(raw.agentDescription);
  if (raw.health != null) part.health = healthToJson(raw.health);
  if (effectiveConfig !== undefined) part.effectiveConfigHash = effectiveConfigHash(effectiveConfig);
  return Object.keys(part).length > 0 ? part : null;
}
