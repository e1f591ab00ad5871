import {
  badRequestReply,
  encodeAckBody,
  encodeServerToAgent,
  SERVER_CAPABILITIES,
  type ServerToAgentInit,
  uidIdToBytes,
} from '@opamp-fleet/opamp';
import type { Logger } from '@opamp-fleet/telemetry';
import type { Admission } from './admission.js';
import type { PendingState } from './agent-events.js';
import {
  acceptsGzip,
  BodyTooLargeError,
  gunzipLimited,
  gzipBody,
  mediaType,
  requestEncoding,
} from './http-encoding.js';
import type { GatewayMetrics } from './metrics.js';
import type { Connection, SessionCore } from './session-core.js';
import type { HttpAdmission, HttpReplier, Rejection, RequestHead } from './uws-server.js';

export const PROTOBUF = 'application/x-protobuf';

export interface HttpTransportOptions {
  readonly core: SessionCore;
  readonly admission: Admission;
  readonly maxMessageBytes: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly nextConnectionId: () => string;
}

/**
 * The plain HTTP side (POST application/x-protobuf on the OpAMP path). Every accepted request is
 * answered 200 with Content-Type exactly application/x-protobuf and one ServerToAgent, also when the
 * body is malformed (BAD_REQUEST error response; an empty 200 crashes a real client). Refusals
 * before the body is read: 401, 405/426, 415, 503 (+ Retry-After); 413 over the size limit, which
 * also applies to the decompressed body.
 */
export class HttpTransport {
  constructor(private readonly o: HttpTransportOptions) {}

  begin(head: RequestHead): HttpAdmission {
    const reject = (status: number, reason: string, headers?: Record<string, string>): Rejection => {
      this.o.metrics.rejected.inc({ transport: 'http', reason });
      return headers ? { status, headers } : { status };
    };
    if (head.method !== 'post') {
      return head.method === 'get'
        ? reject(426, 'method_not_allowed', { upgrade: 'websocket' })
        : reject(405, 'method_not_allowed', { allow: 'POST' });
    }
    if (mediaType(head.header('content-type')) !== PROTOBUF) return reject(415, 'unsupported_media_type');
    if (requestEncoding(head.header('content-encoding')) === null)
      return reject(415, 'unsupported_media_type');
    const refusal = this.o.admission.admitRequest(head.header('authorization'));
    if (refusal) return refusal;
    this.o.admission.requestStarted();
    this.o.metrics.connections.inc({ transport: 'http' });
    return { accept: true, maxBodyBytes: this.o.maxMessageBytes };
  }

  tooLarge(): void {
    this.o.metrics.rejected.inc({ transport: 'http', reason: 'too_large' });
    this.finished();
  }

  aborted(): void {
    this.finished();
  }

  body(head: RequestHead, body: Uint8Array, reply: HttpReplier): void {
    let pending: void | Promise<void>;
    try {
      pending = this.answer(head, body, reply);
    } catch (err) {
      pending = Promise.reject(err);
    }
    if (pending === undefined) {
      this.finished();
      return;
    }
    pending
      .catch((err: unknown) => {
        this.o.logger.error({ err }, 'http request handling failed');
        reply.respond(500, {});
      })
      .finally(() => this.finished());
  }

  private finished(): void {
    this.o.admission.requestFinished();
    this.o.metrics.connections.dec({ transport: 'http' });
  }

  /** Answers the request: synchronously when it can (a poll answered from the session cache). */
  private answer(head: RequestHead, raw: Uint8Array, reply: HttpReplier): void | Promise<void> {
    if (requestEncoding(head.header('content-encoding')) === 'gzip') return this.answerGzip(head, raw, reply);
    return this.answerPlain(head, raw, reply);
  }

  private async answerGzip(head: RequestHead, raw: Uint8Array, reply: HttpReplier): Promise<void> {
    let data: Uint8Array;
    try {
      data = await gunzipLimited(raw, this.o.maxMessageBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        this.o.metrics.rejected.inc({ transport: 'http', reason: 'too_large' });
        return reply.respond(413, {});
      }
      this.o.metrics.decodeErrors.inc({ transport: 'http', code: 'bad_gzip' });
      return this.send(head, reply, badRequestReply(headerUid(head), (err as Error).message));
    }
    return this.answerPlain(head, data, reply);
  }

  private answerPlain(head: RequestHead, data: Uint8Array, reply: HttpReplier): void | Promise<void> {
    const conn = new RequestConnection(this.o.nextConnectionId(), head);
    const outcome = this.o.core.handle(conn, data);
    if (outcome instanceof Promise) return outcome.then((o) => this.send(head, reply, o.reply, o.ack));
    return this.send(head, reply, outcome.reply, outcome.ack);
  }

  /** `ack`: see Outcome.ack. */
  private send(
    head: RequestHead,
    reply: HttpReplier,
    s2a: ServerToAgentInit,
    ack?: Uint8Array,
  ): void | Promise<void> {
    const body = ack !== undefined ? encodeAckBody(ack, SERVER_CAPABILITIES) : encodeServerToAgent(s2a);
    if (acceptsGzip(head.header('accept-encoding'))) {
      return gzipBody(body).then((zipped) =>
        reply.respond(
          200,
          { 'content-type': PROTOBUF, 'content-encoding': 'gzip', vary: 'accept-encoding' },
          zipped,
        ),
      );
    }
    reply.respond(200, PLAIN_HEADERS, body);
  }
}

const PLAIN_HEADERS: Readonly<Record<string, string>> = { 'content-type': PROTOBUF };

/** The connection of one plain HTTP request: it ends with its answer. */
class RequestConnection implements Connection {
  readonly transport = 'http';
  agentId: string | null = null;
  lastUid: Uint8Array | undefined;
  syncedSeq: number | null = null;
  capabilities = 0;
  settingsOffered = false;
  malformed = 0;
  epoch: number | null = null;
  pendingState: PendingState | null = null;
  lastSeenAt = 0; // never read: the connection ends with the answer

  constructor(
    readonly id: string,
    private readonly head: RequestHead,
  ) {
    this.lastUid = headerUid(head);
  }

  /** Read only when needed (a session opens): reading it costs a system call. */
  get remoteAddress(): string {
    return this.head.remoteAddress;
  }
}

/** The OpAMP-Instance-UID request header as bytes, when it is a canonical uid. */
function headerUid(head: RequestHead): Uint8Array | undefined {
  const value = head.header('opamp-instance-uid');
  if (value === '') return undefined;
  try {
    return uidIdToBytes(value);
  } catch {
    return undefined;
  }
}
