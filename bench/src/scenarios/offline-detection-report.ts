import { type Summary, summarize } from '../metrics/stats.js';
import { environmentLine } from '../report/markdown.js';
import type { Environment } from '../report/types.js';

export const OFFLINE_REPORT_SCHEMA = 'opamp-fleet/bench-offline-detection@2';

export type OfflineProfile = 'fast' | 'default';
export type LossMode = 'silent' | 'graceful';

/** Heartbeat interval and offline timeout (seconds) of each profile, as in the issue. */
export const PROFILES: Record<OfflineProfile, { heartbeatSeconds: number; offlineTimeoutSeconds: number }> = {
  fast: { heartbeatSeconds: 1, offlineTimeoutSeconds: 3 },
  default: { heartbeatSeconds: 30, offlineTimeoutSeconds: 60 },
};

/** Targets of the issue; reported, never enforced. */
export const OFFLINE_TARGETS = {
  silentFromLastHeartbeatP99Ms: 5000,
  deadlineToOfflineP99Ms: 2000,
  gracefulP99Ms: 1000,
} as const;

export interface OfflineCaseResult {
  profile: OfflineProfile;
  mode: LossMode;
  agents: number;
  heartbeatSeconds: number;
  offlineTimeoutSeconds: number;
  /** Agents seen offline in Postgres / agents lost. */
  detectedFraction: number;
  /** Last message sent (heartbeat, or the goodbye when graceful) -> offline visible in Postgres (ms). */
  fromLastMessageMs: Summary;
  /** silent only: deadline (last heartbeat + timeout) -> offline visible in Postgres (ms). */
  fromDeadlineMs: Summary | null;
  /**
   * Last message -> the offline transition's own time (`agent_status_transitions.at`): when the
   * gateway handled the goodbye (graceful), when the sweeper decided (silent). Same host, same clock.
   */
  toDecisionMs: Summary;
  /** The transition's time -> offline visible in Postgres: the event pipeline and the write (ms). */
  decisionToVisibleMs: Summary;
  /**
   * First to last agent's last message (ms): graceful, how long the one generator process took to
   * send every goodbye (the burst reaches the gateway spread over this time); silent, the spread of
   * the last heartbeats (about one interval).
   */
  lastMessageSpanMs: number;
  /** Offline transitions by reason (heartbeat_timeout, agent_disconnect, ...). */
  reasons: Record<string, number>;
  /** Raw set-based UPDATE of the same N rows on the same Postgres (median of 3, ms). */
  rawUpdateMs: number;
  /** Detection p99 (from the deadline when silent, from the goodbye when graceful) / raw update time. */
  p99OverRawUpdate: number | null;
  /** The offline poll's period: the resolution of every latency (ms). */
  pollIntervalMs: number;
  target: { name: string; limitMs: number; p99Ms: number; met: boolean }[];
  /** The case's database and Redis key prefix (both removed after the case). */
  servers: { database: string; redisKeyPrefix: string };
}

export interface OfflineDetectionReport {
  schema: typeof OFFLINE_REPORT_SCHEMA;
  scenario: 'offline-detection';
  startedAt: string;
  complete: boolean;
  command: string;
  environment: Environment;
  settings: Record<string, string | number>;
  cases: OfflineCaseResult[];
  /** Cases that failed, with the error. */
  failures: { profile: OfflineProfile; mode: LossMode; agents: number; error: string }[];
}

/** Builds one case's result from per-agent times (ms, wall clock; NaN = not detected). */
export function buildOfflineCase(input: {
  profile: OfflineProfile;
  mode: LossMode;
  lastSentMs: readonly number[];
  offlineSeenMs: readonly number[];
  /** Per agent: its offline transition's time (wall-clock ms), NaN when it has none. */
  decidedMs: readonly number[];
  reasons: Record<string, number>;
  rawUpdateMs: number;
  pollIntervalMs: number;
  servers: OfflineCaseResult['servers'];
}): OfflineCaseResult {
  const { heartbeatSeconds, offlineTimeoutSeconds } = PROFILES[input.profile];
  const fromLast: number[] = [];
  const fromDeadline: number[] = [];
  const toDecision: number[] = [];
  const decisionToVisible: number[] = [];
  input.offlineSeenMs.forEach((seen, i) => {
    if (!Number.isFinite(seen)) return;
    const last = input.lastSentMs[i] as number;
    fromLast.push(seen - last);
    fromDeadline.push(seen - (last + offlineTimeoutSeconds * 1000));
    const decided = input.decidedMs[i] as number;
    if (!Number.isFinite(decided)) return;
    toDecision.push(decided - last);
    decisionToVisible.push(seen - decided);
  });
  const agents = input.lastSentMs.length;
  const fromLastMessageMs = summarize(fromLast);
  const fromDeadlineMs = input.mode === 'silent' ? summarize(fromDeadline) : null;
  const detectionP99 = input.mode === 'silent' ? (fromDeadlineMs as Summary).p99 : fromLastMessageMs.p99;
  const target =
    input.mode === 'graceful'
      ? [{ name: 'graceful close p99', limitMs: OFFLINE_TARGETS.gracefulP99Ms, p99Ms: fromLastMessageMs.p99 }]
      : [
          ...(input.profile === 'fast'
            ? [
                {
                  name: 'silent loss p99 from last heartbeat',
                  limitMs: OFFLINE_TARGETS.silentFromLastHeartbeatP99Ms,
                  p99Ms: fromLastMessageMs.p99,
                },
              ]
            : []),
          {
            name: 'deadline to offline p99',
            limitMs: OFFLINE_TARGETS.deadlineToOfflineP99Ms,
            p99Ms: (fromDeadlineMs as Summary).p99,
          },
        ];
  return {
    profile: input.profile,
    mode: input.mode,
    agents,
    heartbeatSeconds,
    offlineTimeoutSeconds,
    detectedFraction: agents === 0 ? 0 : fromLast.length / agents,
    fromLastMessageMs,
    fromDeadlineMs,
    toDecisionMs: summarize(toDecision),
    decisionToVisibleMs: summarize(decisionToVisible),
    lastMessageSpanMs: spanOf(input.lastSentMs),
    reasons: input.reasons,
    rawUpdateMs: input.rawUpdateMs,
    p99OverRawUpdate:
      Number.isFinite(detectionP99) && input.rawUpdateMs > 0 ? detectionP99 / input.rawUpdateMs : null,
    pollIntervalMs: input.pollIntervalMs,
    target: target.map((t) => ({ ...t, met: t.p99Ms < t.limitMs })),
    servers: input.servers,
  };
}

/** Largest minus smallest finite value; 0 when there is none. */
function spanOf(values: readonly number[]): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi >= lo ? hi - lo : 0;
}

const ms = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : `${Math.round(value)}`;

/** The Markdown summary of a report. */
export function formatOfflineMarkdown(report: OfflineDetectionReport): string {
  const env = report.environment;
  const lines = [
    `# offline-detection ${report.startedAt}`,
    '',
    `Reproduce: \`${report.command}\``,
    '',
    `Environment: ${environmentLine(env)}`,
    '',
    `Setup: ${Object.entries(report.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    'Latencies in ms to the offline status visible in Postgres (polled from a thread of its own, apart from the simulated fleet; resolution = poll period).',
    '',
    '| profile | mode | agents | detected | last msg p50 | last msg p99 | last msg max | deadline p50 | deadline p99 | deadline max | raw UPDATE | p99 / raw | reasons |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of report.cases) {
    lines.push(
      `| ${c.profile} (${c.heartbeatSeconds}/${c.offlineTimeoutSeconds} s) | ${c.mode} | ${c.agents} | ` +
        `${(c.detectedFraction * 100).toFixed(1)} % | ${ms(c.fromLastMessageMs.p50)} | ${ms(c.fromLastMessageMs.p99)} | ` +
        `${ms(c.fromLastMessageMs.max)} | ${ms(c.fromDeadlineMs?.p50)} | ${ms(c.fromDeadlineMs?.p99)} | ` +
        `${ms(c.fromDeadlineMs?.max)} | ${c.rawUpdateMs.toFixed(1)} | ` +
        `${c.p99OverRawUpdate === null ? 'n/a' : c.p99OverRawUpdate.toFixed(1)} | ` +
        `${Object.entries(c.reasons)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ')} |`,
    );
  }
  lines.push(
    '',
    "Where the time went, per agent: from its last message to its offline transition's own time " +
      '(`agent_status_transitions.at`: the gateway handling the goodbye, or the sweeper deciding the ' +
      'timeout; same host, same clock), and from then until the poll saw it in Postgres (the event ' +
      "queue, the worker's or sweeper's write and its commit, plus up to one poll period). 'Last messages " +
      "sent over': first to last agent's last message; graceful, how long the one generator process took " +
      'to send every goodbye, so the burst reached the gateway spread over that time.',
    '',
    '| profile | mode | agents | last messages sent over | to decision p50 | to decision p99 | decision to visible p50 | decision to visible p99 |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const c of report.cases) {
    lines.push(
      `| ${c.profile} | ${c.mode} | ${c.agents} | ${ms(c.lastMessageSpanMs)} | ${ms(c.toDecisionMs.p50)} | ` +
        `${ms(c.toDecisionMs.p99)} | ${ms(c.decisionToVisibleMs.p50)} | ${ms(c.decisionToVisibleMs.p99)} |`,
    );
  }
  lines.push('', '## Targets (reported, not enforced)', '');
  for (const c of report.cases) {
    for (const t of c.target) {
      lines.push(
        `- ${c.profile} ${c.mode} ${c.agents}: ${t.name} ${ms(t.p99Ms)} ms (target < ${t.limitMs}) ${t.met ? 'met' : 'MISSED'}`,
      );
    }
  }
  for (const f of report.failures) {
    lines.push(`- FAILED ${f.profile} ${f.mode} ${f.agents}: ${f.error}`);
  }
  return `${lines.join('\n')}\n`;
}
