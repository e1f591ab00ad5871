import { Counter, Gauge, Histogram, type Registry } from '@opamp-fleet/telemetry';

/** Every metric of the sweeper, defined once on the injected registry. No per-agent labels. */
export interface SweeperMetrics {
  readonly isLeader: Gauge;
  readonly leadershipChanges: Counter<'event'>;
  readonly tickSeconds: Histogram;
  readonly tickErrors: Counter<'stage'>;
  readonly transitions: Counter<'reason'>;
  readonly heartbeatMissed: Counter;
  readonly fencedWrites: Counter;
  readonly expiryChecks: Counter<'outcome'>;
  readonly detectionLagSeconds: Histogram;
  readonly offlineHeld: Gauge;
  readonly holds: Counter<'reason'>;
  readonly closeCommands: Counter<'result'>;
  readonly seenWhileOffline: Counter;
}

export function createSweeperMetrics(registry: Registry): SweeperMetrics {
  const registers = [registry];
  return {
    isLeader: new Gauge({
      name: 'opamp_sweeper_is_leader',
      help: '1 while this replica holds the sweeper lease (as of its last renewal), else 0.',
      registers,
    }),
    leadershipChanges: new Counter({
      name: 'opamp_sweeper_leadership_changes_total',
      help: 'Leadership changes of this replica, by event: acquired or lost.',
      labelNames: ['event'],
      registers,
    }),
    tickSeconds: new Histogram({
      name: 'opamp_sweeper_tick_duration_seconds',
      help: 'Duration of one sweep tick as leader (expiry, reconcile and error sweeps).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    }),
    tickErrors: new Counter({
      name: 'opamp_sweeper_tick_errors_total',
      help: 'Ticks cut short by a failure, by stage: lease, redis, baseline, expiry, reconcile, error_sweep, fleet_counts.',
      labelNames: ['stage'],
      registers,
    }),
    transitions: new Counter({
      name: 'opamp_sweeper_transitions_total',
      help: 'Status transitions committed by this replica, by reason: heartbeat_timeout, offline_too_long.',
      labelNames: ['reason'],
      registers,
    }),
    heartbeatMissed: new Counter({
      name: 'opamp_agent_heartbeat_missed_total',
      help: 'Agents taken offline because their heartbeats stopped (committed heartbeat_timeout transitions); sum over all replicas counts each once.',
      registers,
    }),
    fencedWrites: new Counter({
      name: 'opamp_sweeper_fenced_writes_total',
      help: 'Writes refused by the lease fence (this replica had lost the lease); nothing was written.',
      registers,
    }),
    expiryChecks: new Counter({
      name: 'opamp_sweeper_expiry_checks_total',
      help: 'Expired last-seen entries re-checked, by outcome: confirmed, refreshed (heartbeat in between), vanished.',
      labelNames: ['outcome'],
      registers,
    }),
    detectionLagSeconds: new Histogram({
      name: 'opamp_sweeper_detection_lag_seconds',
      help: 'Time from an agent deadline (last-seen + offline timeout) to its offline transition.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers,
    }),
    offlineHeld: new Gauge({
      name: 'opamp_sweeper_offline_held',
      help: '1 while offline transitions are held after a Redis data loss, restart or outage.',
      registers,
    }),
    holds: new Counter({
      name: 'opamp_sweeper_offline_holds_total',
      help: 'Holds of offline transitions started, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    closeCommands: new Counter({
      name: 'opamp_sweeper_close_commands_total',
      help: 'Ends of the connections of timed-out agents, by result: sent (close command to the gateway), session_ended (plain-HTTP session), skipped, orphaned (no gateway received it: owner released), failed.',
      labelNames: ['result'],
      registers,
    }),
    seenWhileOffline: new Counter({
      name: 'opamp_sweeper_seen_while_offline_total',
      help: 'Agents found offline (or in error) in Postgres yet still heartbeating on the connection taken offline (its close command or session end was lost): that connection is ended again.',
      registers,
    }),
  };
}
