import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Service name, written as `name` on every line. */
  readonly name: string;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  readonly level: string;
  /** Where lines go; stdout when omitted. */
  readonly destination?: DestinationStream;
}

/** Paths whose values are credentials; pino replaces them with "[Redacted]". */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'authTokens',
  '*.authTokens',
];

/**
 * Creates the one root logger of a process (JSON lines). Components log through
 * `logger.child({ component })`. Authorization headers and tokens are redacted.
 */
export function createLogger(options: LoggerOptions): Logger {
  const opts = {
    name: options.name,
    level: options.level,
    base: { pid: process.pid },
    redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
