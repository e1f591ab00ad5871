import {
  AgentCapabilities,
  decodeWsServerFrame,
  encodeWsAgentFrame,
  type KeyValue,
  newInstanceUid,
  uidBytesToId,
} from '@opamp-fleet/opamp';
import type { AgentProtocol, ReplyCheck } from './types.js';

/** What a typical OpenTelemetry Collector announces, minus remote config and packages. */
export const SIMULATED_CAPABILITIES =
  AgentCapabilities.ReportsStatus |
  AgentCapabilities.ReportsHeartbeat |
  AgentCapabilities.ReportsHealth |
  AgentCapabilities.AcceptsOpAMPConnectionSettings;

const kv = (key: string, stringValue: string): KeyValue => ({ key, value: { stringValue } });

interface AgentState {
  uid: Uint8Array;
  sequenceNum: number;
  /** The last reply found valid: an identical one (every heartbeat's ack) is valid without decoding. */
  lastValid: Buffer | null;
}

/**
 * Simulated OpAMP agents, one per global agent index: a fresh UUIDv7 instance_uid at the first
 * message, which carries the full status (description, capabilities, health); then heartbeats,
 * which carry only instance_uid, sequence_num and capabilities (status compression). Replies count
 * as valid when they decode as a ServerToAgent for that agent without an error response (or are
 * byte for byte the last reply that did), or, with `echo`, when they are any non-empty binary frame.
 */
export function createAgentProtocol(replyCheck: ReplyCheck): AgentProtocol {
  const agents = new Map<number, AgentState>();
  const state = (index: number): AgentState => {
    const agent = agents.get(index);
    if (agent === undefined) throw new Error(`agent ${index} has not sent its first message`);
    return agent;
  };
  return {
    firstFrame(index) {
      const uid = newInstanceUid();
      agents.set(index, { uid, sequenceNum: 0, lastValid: null });
      return encodeWsAgentFrame({
        instanceUid: uid,
        sequenceNum: 0,
        capabilities: SIMULATED_CAPABILITIES,
        agentDescription: {
          identifyingAttributes: [
            kv('service.name', 'otelcol-contrib'),
            kv('service.namespace', 'opamp-bench'),
            kv('service.instance.id', uidBytesToId(uid)),
            kv('service.version', '0.112.0'),
          ],
          nonIdentifyingAttributes: [
            kv('os.type', 'linux'),
            kv('host.arch', 'amd64'),
            kv('host.name', `bench-host-${index}`),
          ],
        },
        health: { healthy: true, status: 'StatusOK', startTimeUnixNano: Date.now() * 1e6 },
      });
    },
    heartbeatFrame(index) {
      const agent = state(index);
      agent.sequenceNum++;
      return encodeWsAgentFrame({
        instanceUid: agent.uid,
        sequenceNum: agent.sequenceNum,
        capabilities: SIMULATED_CAPABILITIES,
      });
    },
    agentId(index) {
      return uidBytesToId(state(index).uid);
    },
    isValidReply(index, data) {
      if (replyCheck === 'echo') return data.length > 0;
      const agent = state(index);
      if (agent.lastValid?.equals(data)) return true;
      try {
        const reply = decodeWsServerFrame(data);
        const valid = reply.errorResponse == null && Buffer.from(reply.instanceUid).equals(agent.uid);
        if (valid) agent.lastValid = Buffer.from(data);
        return valid;
      } catch {
        return false;
      }
    },
  };
}
