import type { AgentMessage } from './codec.js';
import { AgentCapabilities, hasCapability } from './constants.js';
import type { CompressibleField } from './state.js';

/**
 * Sub-messages a full report must carry, by the capability that promises them. agent_description
 * is always required. Not required:
 * - connection_settings_status: opamp-go does not resend it when asked for full state, and an agent
 *   has none until settings were offered;
 * - custom_capabilities: no capability bit announces it; never sent means "none".
 */
const REQUIRED_BY_CAPABILITY: ReadonlyArray<readonly [number, CompressibleField]> = [
  [AgentCapabilities.ReportsHealth, 'health'],
  [AgentCapabilities.ReportsEffectiveConfig, 'effectiveConfig'],
  [AgentCapabilities.ReportsRemoteConfig, 'remoteConfigStatus'],
  [AgentCapabilities.ReportsPackageStatuses, 'packageStatuses'],
  [AgentCapabilities.ReportsAvailableComponents, 'availableComponents'],
];

/**
 * True when `msg` carries everything its capabilities say the agent reports, so the server can
 * rebuild the agent's whole status from this message alone. Capabilities are read from this very
 * message: an agent may change them at any time.
 */
export function isFullState(msg: Pick<AgentMessage, 'raw' | 'capabilities'>): boolean {
  if (msg.raw.agentDescription == null) return false;
  for (const [capability, field] of REQUIRED_BY_CAPABILITY) {
    if (hasCapability(msg.capabilities, capability) && msg.raw[field] == null) return false;
  }
  return true;
}

/**
 * Whether the reply to `msg` must set ServerToAgentFlags.ReportFullState: the server lacks usable
 * state (`prev` null: unknown agent, evicted or lost state) or missed a message (sequence_num not
 * exactly prev + 1), and `msg` is not itself a full report.
 *
 * Starting numbers differ between clients (opamp-go's first message is 0, Elastic's is 1), so no
 * starting value is assumed: both send a full first message, and an unknown agent whose first
 * message is full needs nothing. Callers must record `sequenceNum` for every message, including
 * ones answered with ReportFullState, or the next (full) message would be judged a gap again.
 * A sequence_num clamped at Number.MAX_SAFE_INTEGER never matches prev + 1 (asks for full state).
 */
export function needsFullState(
  prev: { readonly sequenceNum: number } | null,
  msg: Pick<AgentMessage, 'raw' | 'capabilities' | 'sequenceNum'>,
): boolean {
  const inSequence = prev !== null && msg.sequenceNum === prev.sequenceNum + 1;
  return !inSequence && !isFullState(msg);
}
