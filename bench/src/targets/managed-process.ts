import { type ChildProcess, spawn } from 'node:child_process';

const OUTPUT_TAIL_CHARS = 16_384;

/** A child process started by the bench, with its recent output kept for error messages. */
export interface ManagedProcess {
  readonly label: string;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last few KiB of stdout and stderr, interleaved. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

const running = new Set<ManagedProcess>();

/** Stops every process started with `startProcess` that is still running (for signal handlers). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(2_000)));
}

/** Spawns `command args` with piped output; `onLine` sees each stdout line. */
export function startProcess(
  label: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): ManagedProcess {
  const child: ChildProcess = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new ProcessStartError(`${label}: could not spawn ${command}`);
  let tail = '';
  const keep = (chunk: string): void => {
    tail = (tail + chunk).slice(-OUTPUT_TAIL_CHARS);
  };
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    keep(chunk);
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine?.(line);
  });
  child.stderr?.setEncoding('utf8').on('data', keep);
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      running.delete(managed);
      resolve({ code, signal });
    });
  });
  let stopping: Promise<void> | null = null;
  const managed: ManagedProcess = {
    label,
    pid: child.pid,
    exited,
    hasExited: () => exitedFlag,
    outputTail: () => tail,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (exitedFlag) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  running.add(managed);
  return managed;
}
