import type { Redis } from 'ioredis';
import { InvalidCommandError, PresenceStateError } from './errors.js';
import { decodeGatewayCommand, encodeGatewayCommand, type GatewayCommand } from './gateway-command.js';
import { type PresenceKeys, presenceKeys } from './keys.js';

export type CommandHandler = (cmd: GatewayCommand) => void | Promise<void>;

export interface CommandBusObserver {
  /** A payload on a gateway's channel failed validation; it was not passed to the handler. */
  onInvalid?(err: InvalidCommandError, gatewayId: string): void;
  /** A handler threw or rejected, or the subscriber connection reported an error. */
  onError?(err: unknown): void;
}

export interface CommandBusOptions {
  /** Used to publish; subscriptions use a duplicate of it (a subscribed connection can do nothing else). */
  redis: Redis;
  keyPrefix?: string;
  observer?: CommandBusObserver;
}

/**
 * Commands to gateways over Redis pub/sub, one channel per gateway.
 *
 * Contract: delivery is at most once and only to gateways subscribed when the command is published
 * (pub/sub keeps nothing): `send` resolves with the number of receivers, 0 meaning nobody got it.
 * Commands sent from one client to one gateway arrive in the order sent. Handlers run in arrival
 * order; an async handler is not awaited before the next message. Invalid payloads and handler
 * failures go to the observer, never to the caller and never as an 'error' event.
 * `subscribe` resolves once Redis confirmed the subscription; while Redis is unreachable it waits, and
 * subscriptions are restored after reconnects. `close` is idempotent, resolves once Redis confirmed the
 * unsubscription (no handler runs after it), and closes only the subscriber connection this bus
 * created (the injected client stays open).
 */
export interface CommandBus {
  /** Subscribes to `gatewayId`'s channel; resolves with a function that unsubscribes. */
  subscribe(gatewayId: string, handler: CommandHandler): Promise<() => Promise<void>>;
  send(gatewayId: string, cmd: GatewayCommand): Promise<number>;
  close(): Promise<void>;
}

export function createCommandBus(options: CommandBusOptions): CommandBus {
  return new RedisCommandBus(options);
}

class RedisCommandBus implements CommandBus {
  private readonly redis: Redis;
  private readonly keys: PresenceKeys;
  private readonly observer: CommandBusObserver;
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, { gatewayId: string; handler: CommandHandler }>();
  private closed = false;

  constructor(o: CommandBusOptions) {
    this.redis = o.redis;
    this.keys = presenceKeys(o.keyPrefix);
    this.observer = o.observer ?? {};
  }

  async subscribe(gatewayId: string, handler: CommandHandler): Promise<() => Promise<void>> {
    if (this.closed) throw new PresenceStateError('command bus is closed');
    const channel = this.keys.gatewayChannel(gatewayId);
    if (this.handlers.has(channel)) {
      throw new PresenceStateError(`gateway ${gatewayId} already has a handler on this bus`);
    }
    this.handlers.set(channel, { gatewayId, handler });
    try {
      await this.connection().subscribe(channel);
    } catch (err) {
      this.handlers.delete(channel);
      throw err;
    }
    return async () => {
      if (this.handlers.delete(channel) && this.subscriber !== null && !this.closed) {
        await this.subscriber.unsubscribe(channel);
      }
    };
  }

  async send(gatewayId: string, cmd: GatewayCommand): Promise<number> {
    const payload = encodeGatewayCommand(cmd);
    decodeGatewayCommand(payload); // refuse to send what receivers would reject
    return this.redis.publish(this.keys.gatewayChannel(gatewayId), payload);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const sub = this.subscriber;
    this.subscriber = null;
    if (sub === null) return;
    if (sub.status !== 'ready') {
      sub.disconnect();
      return;
    }
    try {
      await sub.unsubscribe(); // confirmed by Redis: no command reaches this bus after close resolves
      await sub.quit();
    } catch {
      sub.disconnect();
    }
  }

  private connection(): Redis {
    if (this.subscriber === null) {
      const sub = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      sub.on('error', (err: unknown) => this.report(() => this.observer.onError?.(err)));
      sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
      this.subscriber = sub;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: string): void {
    const entry = this.handlers.get(channel);
    if (entry === undefined) return;
    let cmd: GatewayCommand;
    try {
      cmd = decodeGatewayCommand(message);
    } catch (err) {
      const invalid =
        err instanceof InvalidCommandError ? err : new InvalidCommandError(String(err), message);
      this.report(() => this.observer.onInvalid?.(invalid, entry.gatewayId));
      return;
    }
    try {
      const done = entry.handler(cmd);
      if (done instanceof Promise) {
        done.catch((err: unknown) => this.report(() => this.observer.onError?.(err)));
      }
    } catch (err) {
      this.report(() => this.observer.onError?.(err));
    }
  }

  private report(call: () => void): void {
    try {
      call();
    } catch {
      // an observer's own failure is not the bus's to handle
    }
  }
}
