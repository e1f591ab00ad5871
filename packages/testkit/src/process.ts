import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST_PORT = 10_000;

/** Lowest port the kernel hands out as an ephemeral (source) port; ours stay below it. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > LOWEST_PORT + 1000) return low;
  } catch {
    // not Linux: the IANA ephemeral range starts at 49152
    return 49_152;
  }
  return 32_768;
}

const HIGHEST_PORT = ephemeralLow() - 1;

/** Whether `port` can be listened on right now on every IPv4 address. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Whether the ports `first` .. `first + count - 1` can all be listened on right now. */
export async function portsFree(first: number, count: number): Promise<boolean> {
  for (let p = first; p < first + count; p++) if (!(await bindable(p))) return false;
  return true;
}

/**
 * The first of `count` consecutive TCP ports that are free right now, chosen at random below the
 * kernel's ephemeral range: a port taken from that range could become some other test's outgoing
 * connection's source port between this check and the bind (the usual race otherwise: bind soon).
 */
export async function freePortRange(count: number): Promise<number> {
  const span = HIGHEST_PORT - LOWEST_PORT + 1 - count;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const first = LOWEST_PORT + Math.floor(Math.random() * span);
    if (await portsFree(first, count)) return first;
  }
  throw new Error(`no ${count} consecutive free ports between ${LOWEST_PORT} and ${HIGHEST_PORT}`);
}

/** A TCP port that is free right now (see {@link freePortRange}). */
export function freePort(): Promise<number> {
  return freePortRange(1);
}

/** `count` distinct ports that are free right now. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A process exited before it was ready, or was not ready in time. The message has its output tail. */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

export interface StartProcessOptions {
  /** A short name used in error messages. */
  name: string;
  command: string;
  args?: readonly string[];
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Polled with GET until it answers 200; the process counts as started then. */
  readyUrl?: string;
  /** Polled until it returns true (after `readyUrl` answers, when both are given). */
  ready?: (proc: RunningProcess) => boolean | Promise<boolean>;
  readyTimeoutMs?: number;
  /** Keep at most this many characters of combined stdout/stderr for diagnostics. */
  keepOutputChars?: number;
}

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Combined stdout and stderr seen so far (tail, bounded). */
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits up to `timeoutMs` for exit, then SIGKILLs. Idempotent. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** Sends a raw signal without waiting (SIGKILL, SIGSTOP, SIGCONT for fault tests). */
  signal(signal: NodeJS.Signals): void;
}

const READY_POLL_MS = 50;
const running = new Set<RunningProcess>();

/**
 * Stops every process started with `startProcess` that is still running, in parallel (SIGTERM, then
 * SIGKILL after `timeoutMs`). For signal handlers of a program that started them.
 */
export async function stopAllProcesses(timeoutMs = 2_000): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGTERM', timeoutMs)));
}

/**
 * Spawns a real process and, when `readyUrl` or `ready` is given, waits until it is ready. A process
 * that exits before it is ready, or is not ready within `readyTimeoutMs` (then it is SIGKILLed),
 * rejects with a ProcessStartError carrying its output, so failures explain themselves.
 */
export async function startProcess(opts: StartProcessOptions): Promise<RunningProcess> {
  const keep = opts.keepOutputChars ?? 64_000;
  // A Node child gets an IPC channel: it closes when this process dies, however it dies, and the
  // child's exitOnCrash (packages/telemetry) then stops it, so no child outlives its parent.
  const isNode = opts.command === process.execPath;
  const child: ChildProcess = spawn(opts.command, opts.args ?? [], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: isNode ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  child.channel?.unref();
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > keep) out = out.slice(out.length - keep);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitedValue: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, sig) => {
      exitedValue = code ?? sig ?? -1;
      running.delete(proc);
      resolve(exitedValue);
    });
  });
  if (child.pid === undefined) {
    throw new ProcessStartError(`${opts.name}: failed to spawn ${opts.command}`);
  }
  const proc: RunningProcess = {
    name: opts.name,
    pid: child.pid,
    exited,
    hasExited: () => exitedValue !== undefined,
    output: () => out,
    signal: (sig) => {
      if (exitedValue === undefined) child.kill(sig);
    },
    stop: async (sig = 'SIGTERM', timeoutMs = 10_000) => {
      if (exitedValue !== undefined) return exitedValue;
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(proc);
  const probes: Array<() => boolean | Promise<boolean>> = [];
  if (opts.readyUrl !== undefined) probes.push(() => httpOk(opts.readyUrl!));
  if (opts.ready !== undefined) probes.push(() => opts.ready!(proc));
  if (probes.length > 0) {
    try {
      await waitReady(proc, opts.readyUrl ?? 'its ready check', opts.readyTimeoutMs ?? 15_000, probes);
    } catch (err) {
      await proc.stop('SIGKILL');
      throw err;
    }
  }
  return proc;
}

/**
 * Starts every process in parallel (each as `startProcess` does). If any fails, stops the ones that
 * did start (SIGKILL) and rejects with the first failure, so nothing is left running.
 */
export async function startProcesses(list: readonly StartProcessOptions[]): Promise<RunningProcess[]> {
  const results = await Promise.allSettled(list.map((opts) => startProcess(opts)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed === undefined) return started;
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
  throw failed.reason;
}

async function waitReady(
  proc: RunningProcess,
  what: string,
  timeoutMs: number,
  probes: ReadonlyArray<() => boolean | Promise<boolean>>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let next = 0; // probes that passed stay passed
  for (;;) {
    if (proc.hasExited()) {
      const code = await proc.exited;
      throw new ProcessStartError(`${proc.name} exited (${code}) before it was ready:\n${proc.output()}`);
    }
    while (next < probes.length && (await probes[next]!())) next++;
    if (next === probes.length) return;
    if (Date.now() > deadline) {
      throw new ProcessStartError(
        `${proc.name} not ready at ${what} within ${timeoutMs} ms:\n${proc.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

/** True when GET `url` answers 200 within a second. */
async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false; // not listening yet
  }
}
