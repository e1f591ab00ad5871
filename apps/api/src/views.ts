import type {
  AgentDescription,
  AgentRow,
  AgentStatusRow,
  AgentSummaryRow,
  HistoryPageRow,
  TransitionPageRow,
} from '@opamp-fleet/db';
import type { Owner } from '@opamp-fleet/presence';
import { isoDate as iso, isoTime } from './iso-time.js';
import type { Liveness } from './liveness.js';

/** Response objects, shaped as the schemas in schemas.ts (snake_case, ISO 8601 times). */
type Json = Record<string, unknown>;

const isoMs = (ms: number | null) => (ms === null ? null : isoTime(ms));

/** The status fields every agent view starts with. */
export function statusView(row: AgentStatusRow, live: Liveness): Json {
  return {
    id: row.id,
    status: live.status,
    stored_status: row.status,
    stale: live.stale,
    status_reason: live.statusReason,
    status_changed_at: iso(row.statusChangedAt),
    last_seen_at: isoMs(live.lastSeenMs),
    last_seen_source: live.lastSeenSource,
    last_connected_at: iso(row.lastConnectedAt),
    last_disconnected_at: iso(row.lastDisconnectedAt),
    disconnect_reason: row.disconnectReason,
    transport: row.transport,
  };
}

/** Registry fields: `owner` undefined means Redis could not be read. */
export function connectionView(owner: Owner | null | undefined): Json {
  return {
    connected: owner === undefined ? null : owner !== null,
    gateway_id: owner?.gatewayId ?? null,
    connection_id: owner?.connectionId ?? null,
  };
}

export function descriptionView(d: AgentDescription | null): Json | null {
  if (!d) return null;
  return { identifying: d.identifying ?? {}, non_identifying: d.nonIdentifying ?? {} };
}

export function summaryView(row: AgentSummaryRow, live: Liveness): Json {
  const view = statusView(row, live);
  view.description = descriptionView(row.description);
  return view;
}

/** An item of the offline listing: the summary and when the agent went offline. */
export function offlineAgentView(row: AgentSummaryRow, live: Liveness, offlineSince: Date | null): Json {
  const view = summaryView(row, live);
  view.offline_since = iso(offlineSince);
  return view;
}

export function agentView(row: AgentRow, live: Liveness, owner: Owner | null | undefined): Json {
  return {
    ...summaryView(row, live),
    ...connectionView(owner),
    capabilities: row.capabilities,
    health: row.health ?? null,
    effective_config_hash: row.effectiveConfigHash,
    current_connection_id: row.currentConnectionId,
    connection_epoch: row.connectionEpoch,
    last_sequence_num: row.lastSequenceNum,
    created_at: isoTime(row.createdAt.getTime()),
    updated_at: isoTime(row.updatedAt.getTime()),
  };
}

export function connectionRowView(r: HistoryPageRow): Json {
  return {
    connection_id: r.connectionId,
    connection_epoch: r.connectionEpoch,
    gateway_id: r.gatewayId,
    transport: r.transport,
    remote_address: r.remoteAddress,
    connected_at: iso(r.connectedAt),
    disconnected_at: iso(r.disconnectedAt),
    duration_seconds: r.durationSeconds,
    disconnect_reason: r.disconnectReason,
  };
}

export function transitionView(t: TransitionPageRow): Json {
  return {
    id: t.id,
    from_status: t.fromStatus,
    to_status: t.toStatus,
    reason: t.reason,
    at: isoTime(t.at.getTime()),
    decided_by: t.decidedBy,
    connection_id: t.connectionId,
  };
}
