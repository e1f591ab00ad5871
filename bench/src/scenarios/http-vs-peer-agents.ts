/**
 * Child-process entry of the `http-vs-peer` load generator: simulated plain-HTTP OpAMP agents,
 * each polling in a closed loop (one request in flight, the next sent when the reply arrives) over
 * keep-alive connections, shaped like `@elastic/opamp-client-node` 0.5.0: POST
 * application/x-protobuf, instance_uid + sequence_num (from 1) + capabilities 0x2001 in every
 * message, agent_description in the first. Replies must be HTTP 200 with content-type exactly
 * application/x-protobuf, decode as a ServerToAgent and carry the agent's instance_uid.
 * Driven over IPC by http-vs-peer-load.ts (`HttpLoadCommand` in, `HttpLoadEvent` out).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AgentCapabilities,
  decodeServerToAgent,
  encodeAgentToServer,
  type KeyValue,
  newInstanceUid,
  uidBytesToId,
} from '@opamp-fleet/opamp';
import { tally } from '../load/dial-errors.js';

/** ReportsStatus | ReportsHeartbeat: what opamp-client-node 0.5.0 always announces. */
export const HTTP_AGENT_CAPABILITIES = AgentCapabilities.ReportsStatus | AgentCapabilities.ReportsHeartbeat;
const PROTOBUF = 'application/x-protobuf';
const REQUEST_TIMEOUT_MS = 10_000;
const ERROR_PAUSE_MS = 100;

export type HttpLoadCommand =
  | { type: 'start'; url: string; start: number; end: number; rampMs: number }
  | { type: 'mark' }
  | { type: 'stop' };

export type HttpLoadEvent =
  | { type: 'counters'; answered: number; agentsAnswered: number; errors: number }
  | { type: 'ready' }
  | {
      type: 'result';
      /** Valid replies received inside the measured window. */
      polls: number;
      /** Agents with at least one valid reply. */
      agentsAnswered: number;
      errors: Record<string, number>;
      latencyMs: Float64Array;
      cpuSeconds: number;
    };

interface Reply {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

const kv = (key: string, stringValue: string): KeyValue => ({ key, value: { stringValue } });

function post(agent: http.Agent, url: URL, body: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': PROTOBUF, 'content-length': body.length },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timeout'), { code: 'timeout' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** Why a reply is not a valid answer for `uid`, or null when it is. */
export function judgeReply(reply: Reply, uid: Uint8Array): string | null {
  if (reply.status !== 200) return `http-${reply.status}`;
  if (reply.contentType !== PROTOBUF) return 'content-type';
  try {
    const s2a = decodeServerToAgent(reply.body);
    return Buffer.from(s2a.instanceUid).equals(uid) ? null : 'instance-uid';
  } catch {
    return 'undecodable';
  }
}

function main(): void {
  const send = (event: HttpLoadEvent, sent?: () => void): void => {
    process.send?.(event, undefined, {}, sent);
  };
  let measuring = false;
  let stopping = false;
  let polls = 0;
  let answered = 0;
  let errorCount = 0;
  let agentsAnswered = 0;
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let cpuMark = process.cpuUsage();

  async function agentLoop(
    index: number,
    delayMs: number,
    agent: http.Agent,
    url: URL,
    firstDone: () => void,
  ): Promise<void> {
    await sleep(delayMs);
    const uid = newInstanceUid();
    let sequenceNum = 1;
    let everAnswered = false;
    while (!stopping) {
      const body = encodeAgentToServer({
        instanceUid: uid,
        sequenceNum,
        capabilities: HTTP_AGENT_CAPABILITIES,
        ...(everAnswered
          ? {}
          : {
              agentDescription: {
                identifyingAttributes: [
                  kv('service.name', 'opamp-bench-http-agent'),
                  kv('service.instance.id', uidBytesToId(uid)),
                  kv('service.version', '1.0.0'),
                ],
                nonIdentifyingAttributes: [kv('os.type', 'linux'), kv('host.name', `bench-host-${index}`)],
              },
            }),
      });
      sequenceNum++;
      const inWindow = measuring;
      const started = performance.now();
      let problem: string | null;
      try {
        problem = judgeReply(await post(agent, url, body), uid);
      } catch (error) {
        problem = (error as NodeJS.ErrnoException).code ?? 'request-error';
      }
      const countIt = inWindow && measuring;
      if (problem === null) {
        answered++;
        if (countIt) {
          polls++;
          latencies.push(performance.now() - started);
        }
        if (!everAnswered) {
          everAnswered = true;
          agentsAnswered++;
          firstDone();
        }
      } else {
        errorCount++;
        if (countIt) tally(errors, problem);
        await sleep(ERROR_PAUSE_MS);
      }
    }
    if (!everAnswered) firstDone();
  }

  let loops: Promise<void>[] = [];
  const timer = setInterval(
    () => send({ type: 'counters', answered, agentsAnswered, errors: errorCount }),
    500,
  );
  process.on('message', (command: HttpLoadCommand) => {
    if (command.type === 'start') {
      const url = new URL(command.url);
      const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
      const size = command.end - command.start;
      let first = 0;
      const firstDone = (): void => {
        if (++first === size) send({ type: 'ready' });
      };
      // Agents start spread over the ramp, as a fleet coming up, not one burst of connects.
      loops = Array.from({ length: size }, (_, k) =>
        agentLoop(command.start + k, (command.rampMs * k) / size, agent, url, firstDone),
      );
    } else if (command.type === 'mark') {
      cpuMark = process.cpuUsage();
      measuring = true;
    } else {
      measuring = false;
      const { user, system } = process.cpuUsage(cpuMark);
      stopping = true;
      void Promise.all(loops).then(() => {
        clearInterval(timer);
        send(
          {
            type: 'result',
            polls,
            agentsAnswered,
            errors,
            latencyMs: Float64Array.from(latencies),
            cpuSeconds: (user + system) / 1e6,
          },
          // disconnect only once the result is written: right after send() it can be lost
          () => process.disconnect(),
        );
      });
    }
  });
}

/** The argument http-vs-peer-load.ts forks this module with. */
export const CHILD_ARG = 'http-agents';
if (process.send !== undefined && process.argv[2] === CHILD_ARG) main();
