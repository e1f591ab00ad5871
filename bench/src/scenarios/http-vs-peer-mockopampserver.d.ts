/** The part of `@elastic/mockopampserver` 0.5.0 (CommonJS, untyped) that the http-vs-peer peer uses. */
declare module '@elastic/mockopampserver' {
  export class MockOpAMPServer {
    constructor(opts?: { logLevel?: string; hostname?: string; port?: number });
    readonly endpoint: string;
    start(): Promise<void>;
    close(): Promise<void>;
  }
}
