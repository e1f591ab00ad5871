import { createHash } from 'node:crypto';
import { percentileOfSorted } from './stats.js';

/**
 * How fast this host ran a fixed CPU workload when a run started: a yardstick that makes reports
 * from different hosts (or the same host on a busier day) comparable. Same code, same Node: a
 * round that takes twice as long means every CPU-bound figure of the run is worth about half.
 */
export interface HostSpeed {
  /** Rounds timed. */
  rounds: number;
  /** Median (nearest-rank p50) time of one round (ms): the host's speed as the run found it. */
  roundMedianMs: number;
  /** Fastest round (ms): the speed with the least interference from other work. */
  roundMinMs: number;
}

const RECORDS = 2_000;
const HASHES = 2_000;

/**
 * One round of the calibration workload, the kinds of work the servers do: JSON encoding and parsing
 * of agent-like records (allocation and garbage collection), Map updates, string building and SHA-256
 * over small buffers (native code). Deterministic; returns a checksum so no work can be skipped.
 */
export function calibrationRound(): number {
  let sum = 0;
  const seen = new Map<string, number>();
  for (let i = 0; i < RECORDS; i++) {
    const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const record = {
      id,
      status: i % 3 === 0 ? 'offline' : 'online',
      seq: i,
      description: { 'service.name': `svc-${i % 50}`, 'host.name': `node-${i % 500}`, 'os.type': 'linux' },
      seenAt: 1_700_000_000_000 + i,
    };
    const parsed = JSON.parse(JSON.stringify(record)) as typeof record;
    seen.set(parsed.id, parsed.seq);
    if (i % 4 === 0) seen.delete(`00000000-0000-4000-8000-${(i >> 1).toString(16).padStart(12, '0')}`);
    sum = (sum + parsed.seq + parsed.description['host.name'].length) % 1_000_000_007;
  }
  const block = Buffer.alloc(256, 7);
  for (let i = 0; i < HASHES; i++) {
    block.writeUInt32LE(i, 0);
    sum = (sum + createHash('sha256').update(block).digest().readUInt32LE(0)) % 1_000_000_007;
  }
  return (sum + seen.size) % 1_000_000_007;
}

/** Times `rounds` rounds of {@link calibrationRound} (after one untimed warm-up round): about 0.3 s on a 2-core VM. */
export function measureHostSpeed(rounds = 15, now: () => number = () => performance.now()): HostSpeed {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  calibrationRound();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    calibrationRound();
    times.push(now() - t0);
  }
  times.sort((a, b) => a - b);
  return { rounds, roundMedianMs: percentileOfSorted(times, 50), roundMinMs: times[0]! };
}
