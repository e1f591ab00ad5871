/**
 * Baseline server for the bench: a bare uWebSockets.js process that upgrades on the OpAMP path and
 * echoes every binary message back, nothing else. Same listen options and WebSocket limits as the
 * gateway, so the difference between the two is the gateway's own work.
 *
 *   node uws-echo.js --port P [--path /v1/opamp] [--max-payload-length B] [--idle-timeout S]
 *                    [--max-backpressure B]
 *
 * Prints one JSON line `{"event":"listening","port":P}` on stdout once it accepts connections, and
 * exits on SIGTERM or SIGINT. Several processes may share one port (uWS sets SO_REUSEPORT).
 */

import uWS from 'uWebSockets.js';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    path: { type: 'string', default: '/v1/opamp' },
    'max-payload-length': { type: 'string', default: String(64 * 1024 * 1024) },
    'idle-timeout': { type: 'string', default: '120' },
    'max-backpressure': { type: 'string', default: String(1024 * 1024) },
  },
  strict: true,
});

function integer(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < 0) {
    process.stderr.write(`uws-echo: --${name} must be a non-negative integer, got "${raw}"\n`);
    process.exit(64);
  }
  return value;
}

if (typeof uWS.getParts !== 'function') {
  process.stderr.write(
    'uws-echo: uWebSockets.js native binary did not load (pure-JS fallback); refusing to run\n',
  );
  process.exit(1);
}

const port = integer('port', values.port);
const app = uWS.App();
app.ws(values.path, {
  compression: uWS.DISABLED,
  maxPayloadLength: integer('max-payload-length', values['max-payload-length']),
  idleTimeout: integer('idle-timeout', values['idle-timeout']),
  sendPingsAutomatically: true,
  maxBackpressure: integer('max-backpressure', values['max-backpressure']),
  closeOnBackpressureLimit: 1,
  message: (ws, message, isBinary) => {
    if (isBinary) ws.send(message, true);
  },
});
app.any('/*', (res) => {
  res.writeStatus('404 Not Found').end();
});
app.listen('0.0.0.0', port, (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write(`uws-echo: cannot listen on port ${port}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
