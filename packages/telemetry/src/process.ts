import type { Logger } from './logger.js';

/**
 * Exit code 1 on an uncaught exception or unhandled rejection, logged at fatal first: a process in an
 * unknown state is restarted rather than left serving. Every process's main installs it once.
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
}
