import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Finds a TCP port that is free on 127.0.0.1 right now (the usual race applies: bind soon). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartProcessOptions {
  /** A short name used in error messages. */
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Polled with GET until it answers 200; the process counts as started then. */
  readyUrl?: string;
  readyTimeoutMs?: number;
  /** Keep at most this many characters of combined stdout/stderr for diagnostics. */
  keepOutputChars?: number;
}

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Combined stdout and stderr seen so far (tail, bounded). */
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits up to `timeoutMs` for exit, then SIGKILLs. Idempotent. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** Sends a raw signal without waiting (SIGKILL, SIGSTOP, SIGCONT for fault tests). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Spawns a real process and, when `readyUrl` is given, waits until it answers 200 there.
 * A process that exits before it is ready rejects with its output, so failures explain themselves.
 */
export async function startProcess(opts: StartProcessOptions): Promise<RunningProcess> {
  const keep = opts.keepOutputChars ?? 64_000;
  const child: ChildProcess = spawn(opts.command, opts.args ?? [], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > keep) out = out.slice(out.length - keep);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
  });
  let exitedValue: number | string | undefined;
  void exited.then((v) => {
    exitedValue = v;
  });
  if (child.pid === undefined) {
    throw new Error(`${opts.name}: failed to spawn ${opts.command}`);
  }
  const proc: RunningProcess = {
    name: opts.name,
    pid: child.pid,
    exited,
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
  if (opts.readyUrl) {
    await waitReady(proc, opts.readyUrl, opts.readyTimeoutMs ?? 15_000, () => exitedValue);
  }
  return proc;
}

async function waitReady(
  proc: RunningProcess,
  url: string,
  timeoutMs: number,
  exitedValue: () => number | string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = exitedValue();
    if (code !== undefined) {
      throw new Error(`${proc.name} exited (${code}) before it was ready:\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`${proc.name} not ready at ${url} within ${timeoutMs} ms:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
