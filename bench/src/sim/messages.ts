/**
 * The AgentToServer messages of a simulated OpenTelemetry Collector: `fullState` (agent description
 * with identifying and non-identifying attributes, capabilities, health, effective config),
 * `heartbeat` (instance_uid, sequence_num, capabilities: status compression) and `goodbye`
 * (agent_disconnect). `SIM_CAPABILITIES` is what such a Collector announces.
 */
import { AgentCapabilities, type AgentToServerInit, type KeyValue, uidBytesToId } from '@opamp-fleet/opamp';

export const SIM_CAPABILITIES =
  AgentCapabilities.ReportsStatus |
  AgentCapabilities.ReportsHeartbeat |
  AgentCapabilities.ReportsHealth |
  AgentCapabilities.ReportsEffectiveConfig |
  AgentCapabilities.AcceptsOpAMPConnectionSettings;

const kv = (key: string, stringValue: string): KeyValue => ({ key, value: { stringValue } });

const EFFECTIVE_CONFIG = new TextEncoder().encode(
  [
    'receivers:',
    '  otlp:',
    '    protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: 0.0.0.0:4318 } }',
    'processors:',
    '  batch: {}',
    'exporters:',
    '  otlphttp: { endpoint: https://collector.example:4318 }',
    'service:',
    '  pipelines:',
    '    traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }',
    '',
  ].join('\n'),
);

/** Everything the agent reports; the server asks for it again with ReportFullState. */
export function fullState(
  uid: Uint8Array,
  sequenceNum: number,
  slot: number,
  startedAtMs: number,
): AgentToServerInit {
  return {
    instanceUid: uid,
    sequenceNum,
    capabilities: SIM_CAPABILITIES,
    agentDescription: {
      identifyingAttributes: [
        kv('service.name', 'otelcol-contrib'),
        kv('service.namespace', 'opamp-sim'),
        kv('service.instance.id', uidBytesToId(uid)),
        kv('service.version', '0.112.0'),
      ],
      nonIdentifyingAttributes: [
        kv('os.type', 'linux'),
        kv('host.arch', 'amd64'),
        kv('host.name', `sim-host-${slot}`),
        kv('deployment.environment', slot % 3 === 0 ? 'staging' : 'production'),
      ],
    },
    health: {
      healthy: true,
      status: 'StatusOK',
      startTimeUnixNano: startedAtMs * 1e6,
      statusTimeUnixNano: Date.now() * 1e6,
    },
    effectiveConfig: {
      configMap: { configMap: { '': { body: EFFECTIVE_CONFIG, contentType: 'text/yaml' } } },
    },
  };
}

/** A heartbeat: nothing changed since the last message. */
export function heartbeat(uid: Uint8Array, sequenceNum: number): AgentToServerInit {
  return { instanceUid: uid, sequenceNum, capabilities: SIM_CAPABILITIES };
}

/** The last message of a graceful shutdown. */
export function goodbye(uid: Uint8Array, sequenceNum: number): AgentToServerInit {
  return { instanceUid: uid, sequenceNum, capabilities: SIM_CAPABILITIES, agentDisconnect: {} };
}
