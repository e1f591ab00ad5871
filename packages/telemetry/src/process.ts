import type { Logger } from './logger.js';

/**
 * Exit code 1 on an uncaught exception or unhandled rejection, logged at fatal first: a process in an
 * unknown state is restarted rather than left serving. Every process's main installs it once.
 *
 * Also, when the process was started with an IPC channel (testkit's `startProcess` gives every Node
 * child one), the parent going away - even by SIGKILL, which it cannot relay - closes the channel,
 * and the process then stops the way SIGTERM stops it (graceful). Without a channel (Kubernetes,
 * systemd, a shell) nothing changes.
 */
export function exitOnCrash(logger: Logger): void {
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  stopWithParent(logger);
}

function stopWithParent(logger: Logger): void {
  const channel = process.channel;
  if (channel === undefined) return;
  channel.unref(); // the channel alone never keeps the process running
  process.once('disconnect', () => {
    logger.warn('parent process gone (IPC channel closed): stopping');
    process.kill(process.pid, 'SIGTERM');
  });
}

/**
 * Installs the SIGTERM / SIGINT handlers of a process's main: the first signal logs, runs `stop`
 * (which closes what the process holds, in order) and exits 0 - or 1 when `stop` failed; later
 * signals are ignored while it runs. Returns whether shutdown has begun (for readiness checks).
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): () => boolean {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await stop();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  return () => stopping;
}
