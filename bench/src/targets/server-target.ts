import type { TargetKind } from '../args.js';
import type { ReplyCheck } from '../load/types.js';

/** A server the fleet is pointed at: local processes the bench started, or an external gateway. */
export interface ServerTarget {
  readonly kind: TargetKind;
  readonly url: string;
  /** PIDs of local server processes (for RSS and CPU); empty for an external target. */
  readonly pids: readonly number[];
  readonly replyCheck: ReplyCheck;
  readonly token: string | null;
  /** Settings worth recording in the report; never secrets. */
  readonly settings: Readonly<Record<string, string | number>>;
  /** Stops the processes and removes what they left behind; idempotent. */
  stop(): Promise<void>;
}

export class TargetStartError extends Error {
  override readonly name = 'TargetStartError';
}
