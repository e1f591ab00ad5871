/**
 * Loopback source address for the agent with the given global index: agents are packed
 * `perAddress` at a time onto 127.0.0.2, 127.0.0.3, ... so that no address needs more ephemeral
 * ports than the kernel's bind() search handles cheaply (it degrades above ~12k per address).
 */
export function sourceAddressFor(agentIndex: number, perAddress: number): string {
  if (!Number.isInteger(agentIndex) || agentIndex < 0) throw new RangeError(`bad agent index ${agentIndex}`);
  if (!Number.isInteger(perAddress) || perAddress < 1)
    throw new RangeError(`bad agents per address ${perAddress}`);
  // 127.0.0.2 is host 2 of 127.0.0.0/8; hosts run up to 127.255.255.254.
  const host = 2 + Math.floor(agentIndex / perAddress);
  if (host > 0xff_ff_fe)
    throw new RangeError(`agent ${agentIndex} needs more than the 127.0.0.0/8 addresses`);
  return `127.${(host >> 16) & 0xff}.${(host >> 8) & 0xff}.${host & 0xff}`;
}

/**
 * How many of `total` sends are due `elapsedMs` into a window of `windowMs`, spreading them
 * evenly: 0 at the start, all of them once the window has passed.
 */
export function dueCount(total: number, elapsedMs: number, windowMs: number): number {
  if (windowMs <= 0 || elapsedMs >= windowMs) return total;
  if (elapsedMs <= 0) return 0;
  return Math.min(total, Math.floor((total * elapsedMs) / windowMs));
}

/** Splits `[0, total)` into consecutive ranges of at most `maxPerShard`, as evenly as possible. */
export function shardRanges(total: number, maxPerShard: number): Array<{ start: number; end: number }> {
  if (total <= 0) return [];
  const shards = Math.ceil(total / maxPerShard);
  const ranges: Array<{ start: number; end: number }> = [];
  for (let i = 0; i < shards; i++) {
    ranges.push({ start: Math.floor((total * i) / shards), end: Math.floor((total * (i + 1)) / shards) });
  }
  return ranges;
}

/**
 * The next heartbeat interval of one agent: `intervalMs` scaled by a uniform factor within
 * `1 ± jitter` (`random` returns [0, 1)), so agents drift apart instead of sending in lock-step.
 */
export function jitteredInterval(intervalMs: number, jitter: number, random: () => number): number {
  if (!(intervalMs > 0)) throw new RangeError(`interval must be > 0, got ${intervalMs}`);
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be within [0, 1), got ${jitter}`);
  return intervalMs * (1 + jitter * (2 * random() - 1));
}
