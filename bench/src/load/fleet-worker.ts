/**
 * Entry point of a load-generator child process: drives one slice of the fleet on commands from
 * the coordinator (see fleet-ipc.ts) and exits when the coordinator goes away.
 */
import { createAgentProtocol } from './agent-protocol.js';
import { COUNTERS_INTERVAL_MS, type FleetCommand, type FleetReply } from './fleet-ipc.js';
import { createLocalFleet } from './local-fleet.js';
import type { LoadGenerator } from './types.js';

let fleet: LoadGenerator | null = null;
let countersTimer: NodeJS.Timeout | undefined;

/** Sends to the coordinator unless it has gone (a send after a disconnect would fail with EPIPE). */
function reply(message: FleetReply, then?: () => void): void {
  if (!process.connected) return;
  process.send?.(message, undefined, undefined, () => then?.());
}

async function handle(command: FleetCommand): Promise<FleetReply> {
  if (command.type === 'init') {
    const generator = createLocalFleet(command.spec, createAgentProtocol(command.spec.replyCheck));
    fleet = generator;
    countersTimer = setInterval(
      () => reply({ type: 'counters', counters: generator.counters() }),
      COUNTERS_INTERVAL_MS,
    );
    countersTimer.unref();
    return { type: 'initialized' };
  }
  if (fleet === null) throw new Error(`"${command.type}" before "init"`);
  switch (command.type) {
    case 'connect':
      return { type: 'connected', outcome: await fleet.connect() };
    case 'round':
      return { type: 'rounded', outcome: await fleet.round(command.windowMs, command.timeoutMs) };
    case 'stream-start':
      await fleet.startStream(command.intervalMs, command.jitter);
      return { type: 'stream-started' };
    case 'stream-mark':
      await fleet.markStream();
      return { type: 'stream-marked' };
    case 'stream-stop':
      return { type: 'stream-stopped', outcome: await fleet.stopStream(command.timeoutMs) };
    case 'close':
      clearInterval(countersTimer);
      await fleet.close();
      return { type: 'closed' };
  }
}

process.on('message', (command: FleetCommand) => {
  handle(command).then(
    (message) => reply(message, message.type === 'closed' ? () => process.exit(0) : undefined),
    (error: unknown) => reply({ type: 'failed', message: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
