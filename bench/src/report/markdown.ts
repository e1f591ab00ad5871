import type { HostSpeed } from '../metrics/host-speed.js';
import type { Summary } from '../metrics/stats.js';
import type { ConnectReport, Environment, TargetRun } from './types.js';

const MIB = 1024 * 1024;

/** `n` with `digits` decimals and thousands separators, or `n/a` for a missing or non-finite value. */
export function fmt(n: number | null | undefined, digits = 0): string {
  if (n == null || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtRatio(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? '' : `${fmt(n, 2)}x`;
}

function fmtErrors(run: TargetRun): string {
  const dial = Object.entries(run.connect.dialErrors)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const parts = [
    dial === '' ? '' : `dial: ${dial}`,
    run.connect.failed > 0 ? `not connected ${run.connect.failed}` : '',
    run.heartbeat.unanswered > 0 ? `unanswered ${run.heartbeat.unanswered}` : '',
    run.connect.badReplies + run.heartbeat.badReplies > 0
      ? `bad replies ${run.connect.badReplies + run.heartbeat.badReplies}`
      : '',
    run.heartbeat.unexpectedCloses > 0 ? `unexpected closes ${run.heartbeat.unexpectedCloses}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'none' : parts.join('; ');
}

/** One line naming the date, commit, Node, CPU, OS, memory and load of a run. */
export function environmentLine(env: Environment): string {
  const commit =
    env.gitCommit === null
      ? 'unknown commit'
      : `commit ${env.gitCommit.slice(0, 12)}${env.gitDirty ? ' (dirty)' : ''}`;
  const speed = env.hostSpeed === undefined ? '' : ` · ${hostSpeedText(env.hostSpeed)}`;
  return `${env.date} · ${commit} · Node ${env.nodeVersion} · ${env.cpuCount} x ${env.cpuModel} · ${env.os} · ${fmt(env.totalMemoryBytes / 1024 ** 3)} GiB · load ${fmt(env.loadAverage1m, 2)}${speed}`;
}

/** The calibration timing as reports print it (lower is a faster host). */
function hostSpeedText(speed: HostSpeed): string {
  return `calibration round ${fmt(speed.roundMedianMs, 1)} ms (fastest ${fmt(speed.roundMinMs, 1)})`;
}

type Row = [label: string, pick: (run: TargetRun) => string, ratio?: string];

const ms = (s: Summary, key: 'p50' | 'p99' | 'max'): string => fmt(s[key], 2);

/** The human-readable summary of a connect run: one table, gateway vs baseline, plus warnings. */
export function formatConnectMarkdown(report: ConnectReport): string {
  const runs = [report.gateway, report.baseline].filter((r): r is TargetRun => r !== null);
  const r = report.ratios;
  const rows: Row[] = [
    ['agents connected', (run) => `${fmt(run.connect.connected)} / ${fmt(run.connect.requested)}`],
    ['connect rate (agents/s)', (run) => fmt(run.connect.ratePerSecond), fmtRatio(r?.connectRate)],
    ['connect duration (s)', (run) => fmt(run.connect.durationSeconds, 2)],
    [
      'handshake p50 / p99 (ms)',
      (run) => `${ms(run.connect.handshakeMs, 'p50')} / ${ms(run.connect.handshakeMs, 'p99')}`,
    ],
    ['heartbeats replied / sent', (run) => `${fmt(run.heartbeat.replied)} / ${fmt(run.heartbeat.sent)}`],
    ['heartbeat replies/s', (run) => fmt(run.heartbeat.repliesPerSecond)],
    ['heartbeat latency p50 (ms)', (run) => ms(run.heartbeat.latencyMs, 'p50'), fmtRatio(r?.latencyP50)],
    ['heartbeat latency p99 (ms)', (run) => ms(run.heartbeat.latencyMs, 'p99'), fmtRatio(r?.latencyP99)],
    ['heartbeat latency max (ms)', (run) => ms(run.heartbeat.latencyMs, 'max')],
    [
      'server RSS before -> after (MiB)',
      (run) =>
        run.server
          ? `${fmt(run.server.rssBeforeBytes / MIB, 1)} -> ${fmt(run.server.rssAfterBytes / MIB, 1)}`
          : 'n/a',
    ],
    [
      'server RSS per connection (KiB)',
      (run) =>
        fmt(run.server?.rssPerConnectionBytes == null ? null : run.server.rssPerConnectionBytes / 1024, 2),
      fmtRatio(r?.rssPerConnection),
    ],
    [
      'server CPU per connect (µs)',
      (run) => fmt(run.server?.cpuMicrosPerConnect, 0),
      fmtRatio(r?.cpuPerConnect),
    ],
    [
      'server CPU per heartbeat (µs)',
      (run) => fmt(run.server?.cpuMicrosPerHeartbeat, 0),
      fmtRatio(r?.cpuPerHeartbeat),
    ],
    [
      'server CPU connect / heartbeat (s)',
      (run) =>
        run.server
          ? `${fmt(run.server.cpuSecondsConnect, 2)} / ${fmt(run.server.cpuSecondsHeartbeat, 2)}`
          : 'n/a',
    ],
    [
      'generator CPU connect / heartbeat (% of a core)',
      (run) => `${fmt(run.generator.connect.cpuPercent)} / ${fmt(run.generator.heartbeat.cpuPercent)}`,
    ],
    [
      'generator processes, RSS (MiB)',
      (run) => `${run.generator.processes}, ${fmt(run.generator.rssBytes / MIB, 1)}`,
    ],
    ['errors', fmtErrors],
  ];
  const o = report.options;
  const lines = [
    `# ${report.scenario}: ${fmt(o.agents)} agents, ${o.target ?? `${o.gateways} server process${o.gateways === 1 ? '' : 'es'} per target`}`,
    '',
    environmentLine(report.environment),
    '',
    `Heartbeat phase: ${o.rounds} round(s) over ${fmt(o.durationSeconds, 1)} s, each agent once per round; dial concurrency ${o.dialConcurrency}.`,
    '',
    `| | ${runs.map((run) => (run.target === 'baseline' ? 'baseline (raw uWS echo)' : 'gateway')).join(' | ')} |${r ? ' gateway / baseline |' : ''}`,
    `|---|${runs.map(() => '---:').join('|')}|${r ? '---:|' : ''}`,
    ...rows.map(
      ([label, pick, ratio]) =>
        `| ${label} | ${runs.map(pick).join(' | ')} |${r ? (ratio ? ` ${ratio} |` : ' |') : ''}`,
    ),
    '',
  ];
  for (const run of runs) {
    if (run.generator.saturated) {
      lines.push(
        `> Warning: a generator process was saturated (>= 90% of a core) while loading the ${run.target}; its rates are lower bounds and its latencies upper bounds.`,
        '',
      );
    }
  }
  if (!report.complete)
    lines.push('> Incomplete run: not every agent connected or not every heartbeat was answered.', '');
  lines.push(`Reproduce: \`${report.command}\``, '');
  return lines.join('\n');
}
