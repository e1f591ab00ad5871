/** Test helper: the agent events a gateway put in the queue, read back from BullMQ's jobs. */
import { type AgentEvent, type EventBatch, parseEventBatch, QUEUES, queuePrefix } from '@opamp-fleet/queue';
import { type JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const STATES: JobType[] = ['wait', 'active', 'completed', 'failed', 'delayed', 'prioritized'];

/**
 * Every event in the queue of `keyPrefix`, batch by batch in the order each producer cut them
 * (producers ordered by their first batch), optionally only those of one agent. Every batch is
 * validated as the workers do (throws on an invalid one). `redis` is not closed.
 */
export async function readEvents(redis: Redis, keyPrefix: string, agentId?: string): Promise<AgentEvent[]> {
  const queue = new Queue<EventBatch>(QUEUES.agentEvents, {
    connection: redis,
    prefix: queuePrefix(keyPrefix),
  });
  try {
    const jobs = (await queue.getJobs(STATES)).filter((j) => j?.data !== undefined);
    // Job ids are `<producer>.<instance>.<seq>`: group by producer instance, then by seq.
    const instance = (id: string | undefined) => (id ?? '').replace(/\.\d+$/, '');
    const firstSeen = new Map<string, number>();
    for (const j of jobs) {
      const t = firstSeen.get(instance(j.id));
      if (t === undefined || j.timestamp < t) firstSeen.set(instance(j.id), j.timestamp);
    }
    jobs.sort(
      (a, b) =>
        firstSeen.get(instance(a.id))! - firstSeen.get(instance(b.id))! ||
        instance(a.id).localeCompare(instance(b.id)) ||
        a.data.seq - b.data.seq,
    );
    const events = jobs.flatMap((j) => parseEventBatch(j.data).events);
    return agentId === undefined ? events : events.filter((e) => e.agentId === agentId);
  } finally {
    await queue.close();
  }
}

/** Job ids in the queue of `keyPrefix`. */
export async function readJobIds(redis: Redis, keyPrefix: string): Promise<string[]> {
  const queue = new Queue(QUEUES.agentEvents, { connection: redis, prefix: queuePrefix(keyPrefix) });
  try {
    return (await queue.getJobs(STATES)).map((j) => j.id ?? '');
  } finally {
    await queue.close();
  }
}
