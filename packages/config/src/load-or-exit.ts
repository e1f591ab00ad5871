import { ConfigError } from './errors.js';

/**
 * Runs a config loader in a process's main: on a ConfigError it prints the message (which names every
 * bad variable and never echoes secrets) to stderr and exits with code 2; other errors propagate.
 */
export function loadConfigOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
