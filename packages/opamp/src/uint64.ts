import type Long from 'long';

/**
 * protobufjs decodes uint64 as Long (or as a number when Long is unavailable). These helpers turn
 * them into safe JS numbers with a documented rule for values at or above 2^53:
 * - counters (sequence_num) clamp to Number.MAX_SAFE_INTEGER: no real agent reaches 2^53 messages,
 *   and clamping keeps a broken agent served (its sequence check just fails, asking for full state)
 *   instead of rejecting every message it sends;
 * - bitmasks (capabilities, flags) keep their low 53 bits: higher bits are undefined by the spec and
 *   every defined bit is below 2^16, so dropping them changes no decision.
 */
export type Uint64 = number | Long;

const TWO_32 = 0x1_0000_0000;
const HIGH_SAFE_BITS = 0x1f_ffff;

export function uint64ToCounter(value: Uint64): number {
  if (typeof value === 'number') return Math.min(value, Number.MAX_SAFE_INTEGER);
  const high = value.high >>> 0;
  if (high > HIGH_SAFE_BITS) return Number.MAX_SAFE_INTEGER;
  return high * TWO_32 + (value.low >>> 0);
}

export function uint64ToBitmask(value: Uint64): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : value % 2 ** 53;
  return (value.high & HIGH_SAFE_BITS) * TWO_32 + (value.low >>> 0);
}
