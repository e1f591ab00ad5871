import { AgentCapabilities } from '@opamp-fleet/opamp';
import type {
  Claim,
  ConnectionRegistry,
  Owner,
  ReannounceEntry,
  ReannounceResult,
  ReleaseEntry,
} from '@opamp-fleet/presence';
import type { AgentEvent } from '@opamp-fleet/queue';
import { createLogger, Registry } from '@opamp-fleet/telemetry';
import { describe, expect, it } from 'vitest';
import { AgentEvents } from './agent-events.js';
import { CLOSE_EVENT_REASONS, type CloseKind } from './close-codes.js';
import { createGatewayMetrics } from './metrics.js';
import { type HeldConnection, Ownership } from './ownership.js';

const same = (a: Owner, b: Owner) => a.gatewayId === b.gatewayId && a.connectionId === b.connectionId;

/**
 * In-memory registry with the contract of the Redis one. Operations run one at a time in call order,
 * as the scripts of one Redis connection do; the answer to a claim can be held back, and every
 * operation can fail.
 */
class MemoryRegistry implements ConnectionRegistry {
  readonly owners = new Map<string, Owner>();
  epoch = 0;
  down = false;
  holdClaims = false;
  private gate: (() => void) | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  releaseCalls = 0;

  private serial<T>(op: () => T | Promise<T>): Promise<T> {
    const run = this.chain.then(op);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async claim(agentId: string, owner: Owner): Promise<Claim> {
    const reply = this.holdClaims ? new Promise<void>((resolve) => (this.gate = resolve)) : null;
    const claim = await this.serial(() => {
      if (this.down) throw new Error('redis down');
      const previous = this.owners.get(agentId) ?? null;
      this.owners.set(agentId, owner);
      return { previous, epoch: ++this.epoch };
    });
    await reply; // applied, but its answer is slow
    return claim;
  }
  releaseClaims(): void {
    this.holdClaims = false;
    this.gate?.();
  }
  release(agentId: string, owner: Owner): Promise<boolean> {
    return this.serial(() => {
      const cur = this.owners.get(agentId);
      if (cur === undefined || !same(cur, owner)) return false;
      this.owners.delete(agentId);
      return true;
    });
  }
  async releaseMany(entries: readonly ReleaseEntry[]): Promise<number> {
    this.releaseCalls += 1;
    let n = 0;
    for (const e of entries) if (await this.release(e.agentId, e.owner)) n += 1;
    return n;
  }
  lookup(agentId: string): Promise<Owner | null> {
    return this.serial(() => this.owners.get(agentId) ?? null);
  }
  reannounce(entries: readonly ReannounceEntry[]): Promise<ReannounceResult> {
    return this.serial(() => {
      if (this.down) throw new Error('redis down');
      const result: ReannounceResult = { conflicts: [], epochs: [] };
      for (const e of entries) {
        const cur = this.owners.get(e.agentId);
        if (cur !== undefined && !same(cur, e.owner)) {
          result.conflicts.push({ agentId: e.agentId, current: cur });
          continue;
        }
        this.owners.set(e.agentId, e.owner);
        if (e.needsEpoch) result.epochs.push({ agentId: e.agentId, owner: e.owner, epoch: ++this.epoch });
      }
      return result;
    });
  }
  async noteTakeover(): Promise<number> {
    return 1;
  }
}

function setup() {
  const registry = new MemoryRegistry();
  const emitted: AgentEvent[] = [];
  const touches: Array<[string, number | undefined]> = [];
  const metrics = createGatewayMetrics(new Registry(), { presencePending: () => 0, eventsBuffered: () => 0 });
  const ownership = new Ownership({
    gatewayId: 'gw',
    registry,
    bus: { send: async () => 1 },
    presence: { touch: (agentId, _seq, at) => touches.push([agentId, at]) },
    takeoverWindowMs: 60_000,
    events: new AgentEvents({
      gatewayId: 'gw',
      sink: { emit: (e) => emitted.push(e) },
      metrics,
      now: () => 0,
    }),
    metrics,
    logger: createLogger({ name: 't', level: 'silent' }),
  });
  let n = 0;
  /** A connection closed the way the WebSocket transport closes one: removed at once. */
  const open = (): HeldConnection & { kind: CloseKind | null } => {
    const conn = {
      id: `c${++n}`,
      transport: 'ws' as const,
      remoteAddress: '10.1.1.1',
      agentId: null as string | null,
      lastUid: undefined,
      syncedSeq: null,
      capabilities: 0,
      settingsOffered: false,
      malformed: 0,
      epoch: null as number | null,
      pendingState: null,
      historyId: '',
      opens: 0,
      lastSeenAt: 0,
      closed: false,
      kind: null as CloseKind | null,
      close(kind: CloseKind) {
        if (conn.closed) return;
        conn.closed = true;
        conn.kind = kind;
        ownership.remove(conn, CLOSE_EVENT_REASONS[kind]);
      },
    };
    conn.historyId = conn.id;
    ownership.add(conn);
    return conn;
  };
  const brief = () =>
    emitted.map((e) => [
      e.type,
      e.agentId,
      e.connectionEpoch,
      e.type === 'connection_closed' ? e.reason : null,
    ]);
  return { registry, ownership, open, emitted, brief, touches };
}

describe('Ownership events', () => {
  it('opens a binding with the epoch of its claim, and closes it once on remove', async () => {
    const { ownership, open, brief, emitted } = setup();
    const c = open();
    expect(await ownership.bind(c, 'a')).toBe('ok');
    c.close('goodbye');
    ownership.remove(c, 'connection_closed'); // a second remove emits nothing
    expect(brief()).toEqual([
      ['connection_opened', 'a', 1, null],
      ['connection_closed', 'a', 1, 'agent_disconnect'],
    ]);
    expect(emitted[0]).toMatchObject({ connectionId: c.id, transport: 'ws', remoteAddress: '10.1.1.1' });
  });

  it('releases a burst of closes in one registry call, never the entry of a newer connection', async () => {
    const { registry, ownership, open } = setup();
    const conns = [open(), open(), open()];
    for (const [i, c] of conns.entries()) await ownership.bind(c, `agent-${i}`);
    const before = registry.releaseCalls;
    for (const c of conns) c.close('goodbye');
    // agent-0 connects again before the queued releases go out: its new entry stays
    const again = open();
    await ownership.bind(again, 'agent-0');
    await ownership.settled();
    expect(registry.releaseCalls - before).toBe(1);
    expect([...registry.owners.keys()]).toEqual(['agent-0']);
    expect(registry.owners.get('agent-0')).toEqual({ gatewayId: 'gw', connectionId: again.id });
  });

  it('neither opens nor closes a connection that closed while its claim was in flight', async () => {
    const { registry, ownership, open, emitted } = setup();
    const c = open();
    registry.holdClaims = true;
    const bound = ownership.bind(c, 'a');
    c.close('draining');
    registry.releaseClaims();
    expect(await bound).toBe('ok');
    await ownership.settled();
    expect(emitted).toEqual([]);
    expect(await registry.lookup('a')).toBeNull(); // the release followed the claim

    const late = open();
    late.close('draining');
    expect(await ownership.bind(late, 'b')).toBe('ok'); // closed before its message was handled
    expect(await registry.lookup('b')).toBeNull();
  });

  it('re-announce opens a binding whose claim failed, with its pending state, and leaves claims in flight alone', async () => {
    const { registry, ownership, open, brief } = setup();
    const c = open();
    registry.down = true;
    expect(await ownership.bind(c, 'a')).toBe('ok');
    c.pendingState = { sequenceNum: 4, part: { capabilities: 1 } };
    expect(brief()).toEqual([]);
    registry.down = false;
    const inFlight = open();
    registry.holdClaims = true;
    const bound = ownership.bind(inFlight, 'b');
    await ownership.reannounce();
    // b's claim was applied first (epoch 1) but has not answered: re-announce leaves it alone.
    expect(brief()).toEqual([
      ['connection_opened', 'a', 2, null],
      ['agent_state', 'a', 2, null],
    ]);
    expect(c.pendingState).toBeNull();
    await ownership.reannounce(); // already opened: nothing more
    expect(brief()).toHaveLength(2);
    registry.releaseClaims();
    await bound;
    expect(brief()[2]).toEqual(['connection_opened', 'b', 1, null]);
  });

  it('accepts a claim over a stale local entry, and closes a replaced local connection first', async () => {
    const { registry, ownership, open, brief } = setup();
    registry.owners.set('a', { gatewayId: 'gw', connectionId: 'gone' });
    const first = open();
    await ownership.bind(first, 'a');
    const second = open();
    await ownership.bind(second, 'a');
    expect(first.kind).toBe('replaced');
    expect(brief()).toEqual([
      ['connection_opened', 'a', 1, null],
      ['connection_closed', 'a', 1, 'replaced'],
      ['connection_opened', 'a', 2, null],
    ]);
  });

  it('ends a binding when the socket goes on under another instance_uid', async () => {
    const { ownership, open, brief, emitted, registry } = setup();
    const c = open();
    await ownership.bind(c, 'a');
    c.pendingState = { sequenceNum: 1, part: {} };
    await ownership.bind(c, 'b');
    expect(c.pendingState).toBeNull();
    await ownership.settled();
    expect(await registry.lookup('a')).toBeNull();
    expect(brief()).toEqual([
      ['connection_opened', 'a', 1, null],
      ['connection_closed', 'a', 1, 'instance_uid_changed'],
      ['connection_opened', 'b', 2, null],
    ]);
    expect(emitted.map((e) => ('connectionId' in e ? e.connectionId : null))).toEqual([
      c.id,
      c.id,
      `${c.id}.1`,
    ]);
  });
});

describe('Ownership liveness touches', () => {
  const HEARTBEATS = AgentCapabilities.ReportsStatus | AgentCapabilities.ReportsHeartbeat;

  it('keepalive touches only bound, open connections of agents that do not report heartbeats', async () => {
    const { ownership, open, touches } = setup();
    const silentOk = open();
    await ownership.bind(silentOk, 'no-heartbeats');
    silentOk.capabilities = AgentCapabilities.ReportsStatus;
    const reporter = open();
    await ownership.bind(reporter, 'heartbeats');
    reporter.capabilities = HEARTBEATS;
    open(); // no message yet: not bound to any agent
    const gone = open();
    await ownership.bind(gone, 'closed');
    gone.close('goodbye');
    touches.length = 0;
    expect(ownership.keepalive()).toBe(1);
    expect(touches).toEqual([['no-heartbeats', undefined]]);
  });

  it('re-announce re-writes the real last-seen: now without heartbeats, the last message with', async () => {
    const { ownership, open, touches } = setup();
    const bySocket = open();
    await ownership.bind(bySocket, 'a');
    bySocket.lastSeenAt = 10;
    const byMessages = open();
    await ownership.bind(byMessages, 'b');
    byMessages.capabilities = HEARTBEATS;
    byMessages.lastSeenAt = 20;
    touches.length = 0;
    await ownership.reannounce();
    expect(touches).toEqual([
      ['a', undefined],
      ['b', 20],
    ]);
  });

  it('a heartbeat_timeout command closes the named connection with that reason and releases it', async () => {
    const { ownership, open, registry, brief } = setup();
    const c = open();
    await ownership.bind(c, 'a');
    ownership.handleCommand({
      type: 'close',
      agentId: 'a',
      connectionId: 'other',
      reason: 'heartbeat_timeout',
    });
    expect(c.closed).toBe(false);
    ownership.handleCommand({ type: 'close', agentId: 'a', connectionId: c.id, reason: 'heartbeat_timeout' });
    expect(c.kind).toBe('heartbeat_timeout');
    await ownership.settled();
    expect(await registry.lookup('a')).toBeNull();
    expect(brief()).toEqual([
      ['connection_opened', 'a', 1, null],
      ['connection_closed', 'a', 1, 'heartbeat_timeout'],
    ]);
  });
});
