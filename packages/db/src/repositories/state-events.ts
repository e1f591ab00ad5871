import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../client.js';
import { type AgentStateChanged, validateStateEvents } from '../events.js';
import { cmp, col, createAndLockAgents, lockedAgentRow, splitIntoRounds, unnestAs } from './batch.js';

export interface StateBatchResult {
  /** Agents that did not exist before this batch (created offline). */
  agentsCreated: number;
  /** Agent rows changed (an agent changed by two events of the batch counts twice). */
  agentsUpdated: number;
}

/**
 * Persists a batch of agent state changes in one transaction, idempotently.
 *
 * An event applies only when its (connectionEpoch, sequenceNum) is greater than the agent's
 * (state_epoch, state_seq), so an older or replayed update never overwrites a newer one. An applied
 * event sets last_sequence_num, state_epoch and state_seq, and each field it carries (description,
 * capabilities, health, effectiveConfigHash); absent fields keep their value. Within a batch, events
 * of one agent are applied in (epoch, sequence) order; a second event with the same pair is a
 * duplicate and is skipped. Unknown agents are created offline (status comes from connection events).
 *
 * Concurrency: agent rows are locked first, in id order (see applyConnectionEvents). Throws
 * {@link InvalidBatchError} before writing anything when an event is malformed.
 */
export async function applyStateEvents(
  db: DbExecutor,
  events: readonly AgentStateChanged[],
): Promise<StateBatchResult> {
  validateStateEvents(events);
  const result: StateBatchResult = { agentsCreated: 0, agentsUpdated: 0 };
  if (events.length === 0) return result;
  const rounds = splitIntoRounds(
    events,
    (e) => e.agentId,
    (a, b) =>
      cmp(a.connectionEpoch, b.connectionEpoch) || cmp(a.sequenceNum, b.sequenceNum) || cmp(a.at, b.at),
    (e) => `${e.connectionEpoch}:${e.sequenceNum}`,
  );
  await db.transaction(async (tx) => {
    result.agentsCreated = await createAndLockAgents(
      tx,
      events.map((e) => e.agentId),
    );
    for (const round of rounds) result.agentsUpdated += await applyRound(tx, round);
  });
  return result;
}

const json = (value: unknown): string | null => (value == null ? null : JSON.stringify(value));

/** One state report per agent, each agent's row looked up by key (see lockedAgentRow). */
async function applyRound(tx: DbExecutor, round: readonly AgentStateChanged[]): Promise<number> {
  const rows = await tx.execute(sql`
    update agents a set
      description = coalesce(v.description, a.description),
      capabilities = coalesce(v.capabilities, a.capabilities),
      health = coalesce(v.health, a.health),
      effective_config_hash = coalesce(v.effective_config_hash, a.effective_config_hash),
      last_sequence_num = v.seq,
      state_epoch = v.epoch,
      state_seq = v.seq,
      updated_at = now()
    from ${unnestAs('v', {
      agent_id: col.text(round.map((e) => e.agentId)),
      epoch: col.bigint(round.map((e) => e.connectionEpoch)),
      seq: col.bigint(round.map((e) => e.sequenceNum)),
      description: col.jsonb(round.map((e) => json(e.description))),
      capabilities: col.bigint(round.map((e) => e.capabilities ?? null)),
      health: col.jsonb(round.map((e) => json(e.health))),
      effective_config_hash: col.text(round.map((e) => e.effectiveConfigHash ?? null)),
    })}
    ${lockedAgentRow('k')}
    where a.ctid = k.row_ctid
      and (a.state_epoch is null or (v.epoch, v.seq) > (a.state_epoch, a.state_seq))`);
  return rows.count;
}
