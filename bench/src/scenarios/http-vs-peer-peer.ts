/**
 * Child-process entry of the `http-vs-peer` peer: `@elastic/mockopampserver` (an independent
 * in-memory Node OpAMP server, plain HTTP) on 127.0.0.1:<--port>, logging warnings only. Prints
 * `{"event":"listening","port":N}` once it accepts requests; stops on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { MockOpAMPServer } from '@elastic/mockopampserver';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: http-vs-peer-peer --port N\n');
  process.exit(64);
}
const server = new MockOpAMPServer({ logLevel: 'warn', hostname: '127.0.0.1', port });
await server.start();
process.stdout.write(`${JSON.stringify({ event: 'listening', port, endpoint: server.endpoint })}\n`);
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
