/** A command line the CLI cannot run; the message names the option and what it expects. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}
