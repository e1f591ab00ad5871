import { readOpenFileLimits } from '../metrics/proc.js';
import { createAgentProtocol } from './agent-protocol.js';
import { createLocalFleet } from './local-fleet.js';
import { createShardedFleet } from './sharded-fleet.js';
import type { FleetSpec, LoadGenerator } from './types.js';

/** File descriptors a generator process needs besides its sockets (stdio, IPC, libuv, DNS, ...). */
const DESCRIPTOR_RESERVE = 200;

export class GeneratorLimitError extends Error {
  override readonly name = 'GeneratorLimitError';
}

/**
 * A generator for `spec`: in this process when its agents fit in `agentsPerProcess`, else sharded
 * over child processes of at most that many agents each. Checks the open-file limit first.
 */
export async function createGenerator(spec: FleetSpec, agentsPerProcess: number): Promise<LoadGenerator> {
  const agents = spec.end - spec.start;
  const perProcess = Math.min(agents, agentsPerProcess);
  const { soft } = await readOpenFileLimits();
  if (perProcess + DESCRIPTOR_RESERVE > soft) {
    throw new GeneratorLimitError(
      `a generator process would hold ${perProcess} sockets but the open-file limit is ${soft}: ` +
        `raise it (ulimit -n) or lower --agents-per-generator below ${Math.max(1, soft - DESCRIPTOR_RESERVE)}`,
    );
  }
  if (agents <= agentsPerProcess) return createLocalFleet(spec, createAgentProtocol(spec.replyCheck));
  return createShardedFleet(spec, agentsPerProcess);
}
