import { fileURLToPath } from 'node:url';
import { freePort, type RunningProcess, startProcesses } from '@opamp-fleet/testkit';
import type { ServerTarget } from './server-target.js';

const ECHO_ENTRY = fileURLToPath(new URL('../baseline/uws-echo.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 15_000;

export interface BaselineOptions {
  processes: number;
  path: string;
  maxPayloadLength: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
  /** Default a free port. */
  port?: number;
}

/**
 * Starts `processes` raw uWS echo servers sharing one port and waits until each listens; when one
 * fails, none is left running.
 */
export async function startBaseline(options: BaselineOptions): Promise<ServerTarget> {
  const port = options.port ?? (await freePort());
  const args = [
    ECHO_ENTRY,
    '--port',
    String(port),
    '--path',
    options.path,
    '--max-payload-length',
    String(options.maxPayloadLength),
    '--idle-timeout',
    String(options.idleTimeoutSeconds),
    '--max-backpressure',
    String(options.maxBackpressureBytes),
  ];
  const processes = await startProcesses(
    Array.from({ length: options.processes }, (_, i) => ({
      name: `baseline echo ${i + 1}`,
      command: process.execPath,
      args,
      ready: (p: RunningProcess) => p.output().includes('"event":"listening"'),
      readyTimeoutMs: START_TIMEOUT_MS,
    })),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop('SIGTERM', STOP_GRACE_MS)));
  };
  return {
    kind: 'baseline',
    url: `ws://127.0.0.1:${port}${options.path}`,
    pids: processes.map((p) => p.pid),
    replyCheck: 'echo',
    token: null,
    settings: {
      processes: options.processes,
      maxPayloadLength: options.maxPayloadLength,
      idleTimeoutSeconds: options.idleTimeoutSeconds,
      maxBackpressureBytes: options.maxBackpressureBytes,
    },
    stop,
  };
}
