import { fileURLToPath } from 'node:url';
import { type ManagedProcess, startProcess } from './managed-process.js';
import { freePort } from './ports.js';
import type { ServerTarget } from './server-target.js';
import { waitUntil } from './wait.js';

const ECHO_ENTRY = fileURLToPath(new URL('../baseline/uws-echo.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export interface BaselineOptions {
  processes: number;
  path: string;
  maxPayloadLength: number;
  idleTimeoutSeconds: number;
  maxBackpressureBytes: number;
}

/** Starts `processes` raw uWS echo servers sharing one port and waits until each listens. */
export async function startBaseline(options: BaselineOptions): Promise<ServerTarget> {
  const port = await freePort();
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
  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    await Promise.all(
      Array.from({ length: options.processes }, async (_, i) => {
        let listening = false;
        const child = startProcess(`baseline echo ${i + 1}`, process.execPath, args, process.env, (line) => {
          if (line.includes('"event":"listening"')) listening = true;
        });
        processes.push(child);
        await waitUntil(child, 'listening', async () => listening, START_TIMEOUT_MS);
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
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
