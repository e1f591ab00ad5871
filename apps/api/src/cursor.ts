import { ApiError } from './errors.js';

/**
 * Opaque page cursors: base64url of a small JSON array `[kind, ...position]`. The kind ties a cursor
 * to the listing that issued it; a cursor that does not decode to a position of that listing is a
 * 400 `invalid_cursor`, never a query error.
 */
export type CursorKind = 'agents' | 'offline' | 'history' | 'transitions';

/** A keyset position: a time in µs (null: unknown, listed last) and an id. */
export interface TimePosition<Id extends string | number = string> {
  us: number | null;
  id: Id;
}

export function encodeCursor(kind: CursorKind, position: readonly unknown[]): string {
  return Buffer.from(JSON.stringify([kind, ...position]), 'utf8').toString('base64url');
}

function invalid(): never {
  throw new ApiError(400, 'invalid_cursor', 'cursor is not a cursor of this listing');
}

function decodeParts(kind: CursorKind, cursor: string, length: number): unknown[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    invalid();
  }
  if (!Array.isArray(parts) || parts.length !== length + 1 || parts[0] !== kind) invalid();
  return parts.slice(1);
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isUs = (v: unknown): v is number => Number.isSafeInteger(v);

/** The agent id of an `agents` cursor. */
export function decodeIdCursor(cursor: string): string {
  const [id] = decodeParts('agents', cursor, 1);
  if (!isId(id)) invalid();
  return id;
}

/** A (time or null, string id) position of an `offline` or `history` cursor. */
export function decodeTimeCursor(kind: 'offline' | 'history', cursor: string): TimePosition {
  const [us, id] = decodeParts(kind, cursor, 2);
  if (!(us === null || isUs(us)) || !isId(id)) invalid();
  return { us, id };
}

/** A (time, numeric id) position of a `transitions` cursor. */
export function decodeTransitionCursor(cursor: string): TimePosition<number> {
  const [us, id] = decodeParts('transitions', cursor, 2);
  if (!isUs(us) || !Number.isSafeInteger(id) || (id as number) < 0) invalid();
  return { us, id: id as number };
}
