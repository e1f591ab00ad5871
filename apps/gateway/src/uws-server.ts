/**
 * The only module that imports uWebSockets.js. It adapts uWS's callback API to small transport-neutral
 * ports (WireSocket, HttpHead, HttpReplier) and hides uWS's traps: message ArrayBuffers are copied
 * before the handler sees them (uWS neuters them on return), HTTP responses always have an abort
 * handler and are written corked, and the per-message size limit is raised from uWS's 16 KiB.
 */
import uWS from 'uWebSockets.js';

/** The native binary of uWebSockets.js did not load, and its slow pure-JS fallback was not allowed. */
export class UwsFallbackError extends Error {
  override readonly name = 'UwsFallbackError';
  constructor() {
    super(
      'uWebSockets.js loaded its pure-JS fallback (no native binary for this platform/Node ABI); ' +
        'set ALLOW_UWS_JS_FALLBACK=true to run on it anyway',
    );
  }
}

/** True when uWebSockets.js runs on its native binary (the fallback lacks `getParts`). */
export function uwsIsNative(): boolean {
  return typeof (uWS as { getParts?: unknown }).getParts === 'function';
}

/** Throws {@link UwsFallbackError} on the pure-JS fallback unless `allowFallback`. */
export function assertUwsNative(allowFallback: boolean): void {
  if (!uwsIsNative() && !allowFallback) throw new UwsFallbackError();
}

/** Lower-cased request headers the gateway reads, '' when absent. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  /**
   * The peer's IP address as text (the proxy's, behind one), '' when unknown. Read it before the
   * request is answered: after the answer (or the client's abort) it is '' unless read before.
   */
  readonly remoteAddress: string;
  header(name: string): string;
}

/** A rejected request: answered with this status (and headers), nothing else happens. */
export interface Rejection {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export type SendResult = 'sent' | 'buffered' | 'dropped' | 'closed';

/** Why a WebSocket closed, as far as uWS tells: see UwsHandlers.close. */
export type CloseCause = 'idle_timeout' | 'protocol_error' | 'other';

/** The close messages uWS passes to the close handler when it closes a socket itself. */
const UWS_CLOSE_CAUSES: ReadonlyArray<[prefix: string, cause: CloseCause]> = [
  ['WebSocket timed out from inactivity', 'idle_timeout'],
  ['Received too big message', 'protocol_error'],
  ['Received invalid UTF-8', 'protocol_error'],
];

/** Classifies the close message uWS gave; anything else (peer Close frame, FIN, reset) is 'other'. */
export function closeCause(message: string): CloseCause {
  for (const [prefix, cause] of UWS_CLOSE_CAUSES) if (message.startsWith(prefix)) return cause;
  return 'other';
}

const textDecoder = new TextDecoder();

/** A live WebSocket. Valid until the close handler ran; every call after that is a no-op. */
export interface WireSocket {
  readonly closed: boolean;
  /** The peer's IP address as text (the proxy's, behind one), '' when unknown or closed. */
  readonly remoteAddress: string;
  /** Sends one binary message. 'buffered': queued behind backpressure; 'dropped': over the limit. */
  send(bytes: Uint8Array): SendResult;
  /** Sends a Close frame with `code` and `reason` and closes; the close handler runs at once. */
  end(code: number, reason: string): void;
  /** Closes without a Close frame (abrupt). */
  destroy(): void;
  bufferedAmount(): number;
  /** Runs `fn`; what it sends, a Close frame included, goes out in one write. */
  corked(fn: () => void): void;
}

/** Answers one HTTP request, once; a no-op after the client went away or after the first answer. */
export interface HttpReplier {
  readonly aborted: boolean;
  respond(status: number, headers: Readonly<Record<string, string>>, body?: Uint8Array | string): void;
}

export type HttpAdmission = { readonly accept: true; readonly maxBodyBytes: number } | Rejection;

export interface UwsHandlers<S> {
  /** Decides a WebSocket upgrade synchronously, before any WebSocket exists. */
  upgrade(head: RequestHead): Rejection | null;
  /** A WebSocket opened; returns the state the other callbacks get. */
  open(socket: WireSocket): S;
  /** One complete message, copied (safe to keep across awaits). */
  message(state: S, data: Uint8Array, isBinary: boolean): void;
  /**
   * The WebSocket closed, for any reason. `state` is undefined if it closed before open returned.
   * `cause` tells closes uWS decided itself: `idle_timeout` (no data and no pong within the idle
   * timeout) and `protocol_error` (a frame over the size limit, invalid UTF-8 in a text frame).
   */
  close(state: S, code: number, cause: CloseCause): void;
  /** Decides a plain HTTP request from its head; an accepted body is read up to `maxBodyBytes`. */
  httpBegin(head: RequestHead): HttpAdmission;
  /** The whole body of an accepted request arrived. */
  httpBody(head: RequestHead, body: Uint8Array, reply: HttpReplier): void;
  /** The body of an accepted request went over the limit: answered 413, the connection closed. */
  httpTooLarge(head: RequestHead): void;
  /** The client went away before the body of an accepted request was complete. */
  httpAborted(head: RequestHead): void;
}

export interface UwsServerOptions {
  readonly path: string;
  readonly maxPayloadBytes: number;
  readonly idleTimeoutSeconds: number;
  /** Per-socket send buffer; a socket over it is closed (it does not read its replies). */
  readonly maxBackpressureBytes: number;
}

export interface UwsServer {
  /** Listens (SO_REUSEPORT, so several processes may share a port); resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting new connections; open ones stay. Idempotent. */
  stopListening(): void;
  /** Closes the listen socket and every open socket at once. */
  closeAll(): void;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const STATUS_LINES = new Map(
  Object.entries(STATUS_TEXT).map(([code, text]) => [Number(code), `${code} ${text}`]),
);

function statusLine(status: number): string {
  return STATUS_LINES.get(status) ?? `${status} Unknown`;
}

function readHeaders(req: uWS.HttpRequest): Map<string, string> {
  const headers = new Map<string, string>();
  req.forEach((k, v) => {
    headers.set(k, v);
  });
  return headers;
}

/**
 * The head of a request, valid after the handler returned. The peer address is read from uWS on
 * first use only (each read asks the kernel), which must come before the response is done: after
 * `done()` an address not read yet is ''.
 */
class Head implements RequestHead {
  readonly method: string;
  readonly url: string;
  private readonly headers: Map<string, string>;
  private address: string | undefined;
  private res: uWS.HttpResponse | null;

  constructor(req: uWS.HttpRequest, res: uWS.HttpResponse) {
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.headers = readHeaders(req);
    this.res = res;
  }

  get remoteAddress(): string {
    if (this.address === undefined) {
      this.address = this.res === null ? '' : textDecoder.decode(this.res.getRemoteAddressAsText());
    }
    return this.address;
  }

  header(name: string): string {
    return this.headers.get(name) ?? '';
  }

  /** The response was ended or aborted: uWS must not be asked about it anymore. */
  done(): void {
    this.res = null;
  }
}

function writeRejection(res: uWS.HttpResponse, r: Rejection, closeConnection = false): void {
  res.cork(() => {
    res.writeStatus(statusLine(r.status));
    for (const [k, v] of Object.entries(r.headers ?? {})) res.writeHeader(k, v);
    res.end(r.body ?? '', closeConnection);
  });
}

interface Holder<S> {
  state?: S;
  socket?: SocketImpl;
}

/** Keeps no copy of the peer address: it is read from uWS when asked, while the socket is open. */
class SocketImpl implements WireSocket {
  closed = false;
  constructor(private readonly ws: uWS.WebSocket<unknown>) {}

  get remoteAddress(): string {
    return this.closed ? '' : textDecoder.decode(this.ws.getRemoteAddressAsText());
  }

  send(bytes: Uint8Array): SendResult {
    if (this.closed) return 'closed';
    let r = 0;
    this.ws.cork(() => {
      r = this.ws.send(bytes, true, false);
    });
    return r === 1 ? 'sent' : r === 0 ? 'buffered' : 'dropped';
  }

  end(code: number, reason: string): void {
    if (!this.closed) this.ws.end(code, reason);
  }

  destroy(): void {
    if (!this.closed) this.ws.close();
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  corked(fn: () => void): void {
    if (this.closed) fn();
    else this.ws.cork(fn);
  }
}

class Replier implements HttpReplier {
  aborted = false;
  private done = false;
  constructor(
    private readonly res: uWS.HttpResponse,
    private readonly head: Head,
  ) {}

  respond(status: number, headers: Readonly<Record<string, string>>, body?: Uint8Array | string): void {
    if (this.aborted || this.done) return;
    this.done = true;
    this.head.done();
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const k in headers) this.res.writeHeader(k, headers[k]!);
      this.res.end(body ?? '');
    });
  }
}

/** Builds the uWS app: WebSocket and plain HTTP on `options.path`, 404 elsewhere. */
export function createUwsServer<S>(options: UwsServerOptions, handlers: UwsHandlers<S>): UwsServer {
  const app = uWS.App();
  let listenSocket: uWS.us_listen_socket | null = null;

  app.ws<Holder<S>>(options.path, {
    maxPayloadLength: options.maxPayloadBytes,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) => {
      const head = new Head(req, res);
      const rejection = handlers.upgrade(head);
      head.done();
      if (rejection) return writeRejection(res, rejection);
      res.upgrade<Holder<S>>(
        {},
        head.header('sec-websocket-key'),
        head.header('sec-websocket-protocol'),
        head.header('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const holder = ws.getUserData();
      const socket = new SocketImpl(ws as uWS.WebSocket<unknown>);
      holder.socket = socket;
      holder.state = handlers.open(socket);
    },
    message: (ws, message, isBinary) => {
      const holder = ws.getUserData();
      const data = new Uint8Array(message.byteLength);
      data.set(new Uint8Array(message));
      handlers.message(holder.state as S, data, isBinary);
    },
    close: (ws, code, message) => {
      const holder = ws.getUserData();
      if (holder.socket) holder.socket.closed = true;
      handlers.close(holder.state as S, code, closeCause(textDecoder.decode(message)));
    },
  });

  app.any(options.path, (res, req) => {
    const head = new Head(req, res);
    const admission = handlers.httpBegin(head);
    if (!('accept' in admission)) {
      head.done();
      return writeRejection(res, admission);
    }
    const limit = admission.maxBodyBytes;
    const declared = Number(head.header('content-length') || '0');
    if (declared > limit) {
      head.done();
      handlers.httpTooLarge(head);
      return writeRejection(res, { status: 413 }, true);
    }
    const replier = new Replier(res, head);
    let complete = false;
    res.onAborted(() => {
      const wasAborted = replier.aborted;
      replier.aborted = true;
      head.done();
      if (!complete && !wasAborted) handlers.httpAborted(head);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (complete || replier.aborted) return;
      size += chunk.byteLength;
      if (size > limit) {
        complete = true;
        handlers.httpTooLarge(head);
        replier.aborted = true;
        head.done();
        writeRejection(res, { status: 413 }, true);
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      complete = true;
      handlers.httpBody(head, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), replier);
    });
  });

  app.any('/*', (res) => writeRejection(res, { status: 404 }));

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        app.listen(host, port, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
          listenSocket = socket;
          resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
        });
      });
    },
    stopListening() {
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
    },
    closeAll() {
      listenSocket = null;
      (app as unknown as { close(): void }).close();
    },
  };
}
