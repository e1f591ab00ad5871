import type { Summary } from '../metrics/stats.js';
import type {
  HeartbeatThroughputReport as Report,
  ServerCpu,
  TargetCheck,
  UpdateBaseline,
} from './heartbeat-types.js';
import { environmentLine, fmt } from './markdown.js';

const MIB = 1024 * 1024;

const quantiles = (s: Summary, digits: number, scale = 1): string =>
  `${fmt(s.p50 * scale, digits)} / ${fmt(s.p99 * scale, digits)} / ${fmt(s.max * scale, digits)}`;

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

const cpu = (c: ServerCpu | null): string =>
  c === null ? 'n/a' : `${fmt(c.cpuPercent)} % (${plural(c.processes, 'process', 'processes')})`;

const check = (label: string, t: TargetCheck, unit: string, digits: number, op: string): string =>
  `- ${label} ${op} ${fmt(t.target, digits)} ${unit}: measured ${fmt(t.measured, digits)} ${unit} -> **${t.met ? 'met' : 'not met'}**`;

const baselineRow = (label: string, b: UpdateBaseline): string =>
  `| ${label} | ${fmt(b.rowsPerSecond)} | ${fmt(b.statements)} | ${fmt(b.statementMs.p50, 1)} / ${fmt(b.statementMs.p99, 1)} |`;

function errors(r: Report): string {
  const dial = Object.entries(r.connect.dialErrors).map(([kind, n]) => `${kind} ${n}`);
  const parts = [
    dial.length > 0 ? `dial: ${dial.join(', ')}` : '',
    r.connect.failed > 0 ? `not connected ${r.connect.failed}` : '',
    r.steady.unanswered > 0 ? `unanswered ${r.steady.unanswered}` : '',
    r.connect.badReplies + r.steady.badReplies > 0
      ? `bad replies ${r.connect.badReplies + r.steady.badReplies}`
      : '',
    r.steady.unexpectedCloses > 0 ? `unexpected closes ${r.steady.unexpectedCloses}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'none' : parts.join('; ');
}

/** The human-readable summary of a heartbeat-throughput run. */
export function formatHeartbeatMarkdown(r: Report): string {
  const o = r.options;
  const s = r.steady;
  const f = r.freshness;
  const rows: Array<[string, string]> = [
    [
      'agents connected',
      `${fmt(r.connect.connected)} / ${fmt(r.connect.requested)} (${fmt(r.connect.ratePerSecond)} /s)`,
    ],
    [
      'warm-up',
      `${fmt(r.warmup.seconds, 1)} s; connection events written ${fmt(r.warmup.connectionEventsWritten)}${r.warmup.eventsDrained ? '' : ' (NOT drained)'}; flush lag then ${fmt(r.warmup.flushLagSeconds, 2)} s${r.warmup.flushCaughtUp ? '' : ' (NOT caught up)'}`,
    ],
    ['steady phase', `${fmt(s.seconds, 1)} s`],
    [
      'heartbeats target / sent / answered per s',
      `${fmt(s.targetPerSecond)} / ${fmt(s.sentPerSecond)} / **${fmt(s.repliesPerSecond)}**`,
    ],
    [
      'heartbeats answered / sent (skipped: previous in flight)',
      `${fmt(s.replied)} / ${fmt(s.sent)} (${fmt(s.skippedInFlight)})`,
    ],
    ['reply latency p50 / p99 / max (ms)', quantiles(s.latencyMs, 2)],
    ['generator send lag p50 / p99 / max (ms)', quantiles(s.sendLagMs, 1)],
    [
      'flush lag p50 / p99 / max (s), read from Redis every 250 ms',
      `**${quantiles(r.flush.continuousLagSeconds, 2)}** (${fmt(r.flush.continuousLagSeconds.count)} samples)`,
    ],
    [
      'Postgres behind Redis per agent p50 / p99 / max (s), 1,000 random agents every 1 s',
      `**${quantiles(r.flush.postgresBehindSeconds, 2)}** (${fmt(r.flush.postgresBehindSeconds.count)} readings)`,
    ],
    [
      'flush lag p50 / p99 / max (s), worker gauge every 250 ms (set at run starts)',
      `${quantiles(r.flush.lagSeconds, 2)} (${fmt(r.flush.lagSeconds.count)} samples)`,
    ],
    [
      'flush delay p50 / p99 (s, histogram bucket bound)',
      `<= ${fmt(r.flush.delaySeconds.p50UpperBound, 2)} / <= ${fmt(r.flush.delaySeconds.p99UpperBound, 2)} (${fmt(r.flush.delaySeconds.runs)} runs)`,
    ],
    [
      'Postgres rows written by the flush per s',
      `**${fmt(r.flush.rowsPerSecond)}** (${fmt(r.flush.entriesPerSecond)} entries/s, ${fmt(r.flush.runs)} runs; ` +
        `${fmt(r.flush.late)} entries from the late set)`,
    ],
    [
      'agents fresh in Postgres',
      `**${fmt(f.freshFraction * 100, 2)} %** (${fmt(f.fresh)} / ${fmt(f.agents)}, tolerance ${fmt(f.toleranceMs)} ms, after ${fmt(f.waitedSeconds, 1)} s; missing ${fmt(f.missing)}; stale in Postgres but fresh in Redis ${fmt(f.staleFreshInRedis)})`,
    ],
    ['last heartbeat - last_seen_at p50 / p99 / max (ms)', quantiles(f.stalenessMs, 1)],
    [
      'host CPU busy (all cores) = this run + other work',
      `${fmt(r.cpu.host.busyPercent)} % = ${fmt(r.cpu.host.thisRunPercent)} % + ${fmt(r.cpu.host.otherWorkPercent)} % (CPU pressure ${fmt(r.cpu.host.pressurePercent)} %, steal ${fmt(r.cpu.host.stealPercent, 1)} %)`,
    ],
    [
      'server CPU per answered heartbeat (µs): gateways / workers / Redis / Postgres = total',
      `${fmt(r.cpu.microsPerHeartbeat.gateways, 1)} / ${fmt(r.cpu.microsPerHeartbeat.workers, 1)} / ${fmt(r.cpu.microsPerHeartbeat.redis, 1)} / ${fmt(r.cpu.microsPerHeartbeat.postgres, 1)} = ${fmt(r.cpu.microsPerHeartbeat.total, 1)}`,
    ],
    ['CPU gateways / workers', `${cpu(r.cpu.gateways)} / ${cpu(r.cpu.workers)}`],
    ['CPU Redis / Postgres backends', `${cpu(r.cpu.redis)} / ${cpu(r.cpu.postgres)}`],
    [
      'CPU generator (peak process)',
      `${fmt(r.cpu.generator.cpuPercent)} % (${fmt(r.cpu.generator.peakProcessCpuPercent)} %), ${plural(r.cpu.generator.processes, 'process', 'processes')}, ${fmt(r.cpu.generator.rssBytes / MIB, 1)} MiB`,
    ],
    ['errors', errors(r)],
  ];
  const lines = [
    `# heartbeat-throughput: ${fmt(o.agents)} agents every ${o.heartbeatSeconds} s, ${plural(o.gateways, 'gateway', 'gateways')}, ${plural(o.workers, 'worker', 'workers')}`,
    '',
    environmentLine(r.environment),
    '',
    `Agents -> gateways (uWS) -> Redis last-seen set -> heartbeat flush (BullMQ job, workers) -> Postgres agents.last_seen_at. Each agent heartbeats every ${o.heartbeatSeconds} s ±${fmt(o.jitter * 100)} %; ${fmt(o.warmupSeconds, 1)} s+ warm-up, then ${fmt(o.durationSeconds, 1)} s measured. Redis prefix \`${r.servers.redisKeyPrefix}\`, database \`${r.servers.database}\` (both removed after the run).`,
    '',
    '| | |',
    '|---|---:|',
    ...rows.map(([label, value]) => `| ${label} | ${value} |`),
    '',
    `Baseline on the same Postgres, same table (${fmt(r.baseline.tableRows)} rows), chunks of ${fmt(r.baseline.chunkSize)}, one statement at a time, after the run's servers stopped:`,
    '',
    '| statement | rows/s | statements | ms p50 / p99 |',
    '|---|---:|---:|---:|',
    baselineRow('raw `UPDATE ... FROM unnest` with GREATEST', r.baseline.rawUpdate),
    baselineRow('`flushLastSeen` (the flush statement)', r.baseline.flushStatement),
    '',
    `End-to-end heartbeats/s vs raw UPDATE rows/s: **${fmt(r.ratios.heartbeatsVsRawUpdate, 3)}x**; flush rows/s vs raw: ${fmt(r.ratios.flushRowsVsRawUpdate, 3)}x.`,
    '',
    'Targets (reported, never enforced):',
    '',
    check('sustained heartbeats/s', r.targets.heartbeatsPerSecond, '/s', 0, '>='),
    check('flush lag p99 (read from Redis)', r.targets.flushLagP99Seconds, 's', 2, '<'),
    check(
      'Postgres behind Redis p99 (the same bound, as a reader of Postgres sees it)',
      r.targets.postgresBehindP99Seconds,
      's',
      2,
      '<',
    ),
    '',
  ];
  if (!r.targets.heartbeatsPerSecond.met && s.skippedInFlight === 0 && s.unanswered === 0) {
    lines.push(
      `> Every offered heartbeat was answered: the offered rate (${fmt(s.sentPerSecond)}/s) was below the target; offer more (--agents) to test it.`,
      '',
    );
  }
  if (r.cpu.host.saturated) {
    lines.push(
      `> Warning: the host was CPU-saturated during the steady phase (${fmt(r.cpu.host.busyPercent)} % of all cores busy, ${fmt(r.cpu.host.otherWorkPercent)} % of it other work); the throughput is a lower bound of what the software carries, and latencies and lag include waiting for a CPU.`,
      '',
    );
  }
  if (r.cpu.generator.saturated) {
    lines.push(
      '> Warning: a generator process was saturated (>= 90% of a core) during the steady phase; the rates are lower bounds of what the servers can carry.',
      '',
    );
  }
  if (!r.complete) {
    lines.push(
      '> Incomplete run: not every agent connected, not every heartbeat was answered, or not every agent is fresh in Postgres.',
      '',
    );
  }
  lines.push(`Reproduce: \`${r.command}\``, '');
  return lines.join('\n');
}
