/**
 * Entry point of a simulator child process: simulates one shard (sim-ipc.ts `init`), serves the
 * coordinator's commands one at a time, reports its status every SIM_COUNTERS_INTERVAL_MS, and
 * exits when the coordinator goes away.
 */
import { LocalSim } from './local-sim.js';
import { SIM_COUNTERS_INTERVAL_MS, type SimReply, type SimRequest } from './sim-ipc.js';

let sim: LocalSim | null = null;

function reply(message: SimReply): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (request: SimRequest) => {
  if (request.type === 'init') {
    const local = new LocalSim(request.spec);
    sim = local;
    setInterval(() => reply({ type: 'status', ...local.status() }), SIM_COUNTERS_INTERVAL_MS).unref();
    reply({ type: 'result', result: { type: 'done' } });
    return;
  }
  if (sim === null) {
    reply({ type: 'failed', message: `"${request.command.type}" before "init"` });
    return;
  }
  sim.handle(request.command).then(
    (result) => {
      reply({ type: 'status', ...(sim as LocalSim).status() });
      reply({ type: 'result', result });
    },
    (error: unknown) => reply({ type: 'failed', message: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
