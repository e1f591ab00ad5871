import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import postgres from 'postgres';
import type { ObserverInput, ObserverMessage } from './offline-observer.js';

/**
 * The offline observer's thread: polls Postgres until every id is seen with a status other than
 * online or the deadline passes, and stamps each first sighting with the wall clock. It posts
 * `ready` after its first poll (the scenario starts the loss only then) and `done` with the times
 * (NaN: never seen). Its own event loop keeps the stamps free of the fleet's work in the main thread.
 */
async function observe(input: ObserverInput): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('offline-observer-thread must run in a worker thread');
  // one connection: the watch list is a temporary table of this session
  const sql = postgres(input.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const seen = new Float64Array(input.ids.length).fill(Number.NaN);
    const index = new Map(input.ids.map((id, i) => [id, i]));
    // Agents not seen offline yet. Each poll takes out those that are now: far cheaper for Postgres
    // and this thread than sending every pending id with each poll (18 ms a poll at 10,000 ids).
    await sql`create temporary table watch (id text primary key)`;
    await sql`insert into watch select unnest(${input.ids as string[]}::text[])`;
    await sql`analyze watch`;
    let pending = input.ids.length;
    const end = Date.now() + input.timeoutMs;
    let first = true;
    while (pending > 0 && Date.now() < end) {
      const rows = await sql<{ id: string }[]>`
        delete from watch w using agents a where a.id = w.id and a.status <> 'online' returning w.id`;
      const now = Date.now();
      for (const { id } of rows) seen[index.get(id) as number] = now;
      pending -= rows.length;
      if (first) {
        port.postMessage({ type: 'ready' } satisfies ObserverMessage);
        first = false;
      }
      if (pending > 0) await sleep(input.pollIntervalMs);
    }
    port.postMessage({ type: 'done', seenMs: seen } satisfies ObserverMessage);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

await observe(workerData as ObserverInput);
