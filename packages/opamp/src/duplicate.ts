/**
 * What to do when a connection presents an instance_uid that may already be in use.
 * - `accept`: no live connection owns the uid.
 * - `takeover`: the newcomer wins and the old connection is closed (reason REPLACED_CLOSE_REASON).
 *   The usual cause is an agent reconnecting while its old socket is still half-open.
 * - `assign_new_uid`: two live agents share the uid (cloned VM or disk, a bad generator): they would
 *   keep replacing each other, so the newcomer keeps its connection but is sent a freshly generated
 *   agent_identification.new_instance_uid (spec: Duplicate instance_uid Detection).
 */
export type DuplicateDecision = 'accept' | 'takeover' | 'assign_new_uid';

export interface DuplicateSituation {
  /** Another connection currently owns this uid and is believed alive. */
  readonly existingOwnerLive: boolean;
  /** Takeovers of this uid within the caller's recent window (the window length is caller policy). */
  readonly recentTakeovers: number;
}

/**
 * Pure decision: no live owner -> accept; a live owner and no takeover in the window -> takeover;
 * a takeover already happened in the window (clones ping-ponging) -> assign_new_uid.
 */
export function decideDuplicate(situation: DuplicateSituation): DuplicateDecision {
  if (!situation.existingOwnerLive) return 'accept';
  return situation.recentTakeovers > 0 ? 'assign_new_uid' : 'takeover';
}
