import {
  badRequestReply,
  encodeServerToAgent,
  type ServerToAgentInit,
  uidIdToBytes,
} from '@opamp-fleet/opamp';
import type { Logger } from '@opamp-fleet/telemetry';
import type { Admission } from './admission.js';
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
    this.answer(head, body, reply)
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

  private async answer(head: RequestHead, raw: Uint8Array, reply: HttpReplier): Promise<void> {
    let data = raw;
    if (requestEncoding(head.header('content-encoding')) === 'gzip') {
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
    }
    const conn: Connection = {
      id: this.o.nextConnectionId(),
      transport: 'http',
      remoteAddress: head.remoteAddress,
      agentId: null,
      lastUid: headerUid(head),
      syncedSeq: null,
      capabilities: 0,
      settingsOffered: false,
      malformed: 0,
      epoch: null,
      pendingState: null,
      lastSeenAt: 0, // a request's connection ends with its answer: never read
    };
    const outcome = await this.o.core.handle(conn, data);
    await this.send(head, reply, outcome.reply);
  }

  private async send(head: RequestHead, reply: HttpReplier, s2a: ServerToAgentInit): Promise<void> {
    const body = encodeServerToAgent(s2a);
    if (acceptsGzip(head.header('accept-encoding'))) {
      const zipped = await gzipBody(body);
      return reply.respond(
        200,
        { 'content-type': PROTOBUF, 'content-encoding': 'gzip', vary: 'accept-encoding' },
        zipped,
      );
    }
    reply.respond(200, { 'content-type': PROTOBUF }, body);
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
