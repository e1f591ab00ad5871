import { describe, expect, it } from 'vitest';
import { InvalidCommandError } from './errors.js';
import { decodeGatewayCommand, encodeGatewayCommand, type GatewayCommand } from './gateway-command.js';

describe('gateway commands', () => {
  it('round-trips a close command and drops unknown fields', () => {
    const cmd: GatewayCommand = { type: 'close', agentId: 'a', connectionId: 'c1', reason: 'replaced' };
    const extra = { ...cmd, reason: 'reconnect_requested', secret: 'x' } as GatewayCommand;
    expect(decodeGatewayCommand(encodeGatewayCommand(cmd))).toEqual(cmd);
    expect(encodeGatewayCommand(extra)).not.toContain('secret');
  });

  it.each(['replaced', 'reconnect_requested', 'heartbeat_timeout'] as const)(
    'accepts reason %s',
    (reason) => {
      const cmd: GatewayCommand = { type: 'close', agentId: 'a', connectionId: 'c1', reason };
      expect(decodeGatewayCommand(encodeGatewayCommand(cmd))).toEqual(cmd);
    },
  );

  it.each([
    ['not json', '{'],
    ['not an object', '[1]'],
    ['null', 'null'],
    ['unknown type', '{"type":"open","agentId":"a","connectionId":"c","reason":"replaced"}'],
    ['missing agentId', '{"type":"close","connectionId":"c","reason":"replaced"}'],
    ['empty agentId', '{"type":"close","agentId":"","connectionId":"c","reason":"replaced"}'],
    ['numeric connectionId', '{"type":"close","agentId":"a","connectionId":1,"reason":"replaced"}'],
    ['unknown reason', '{"type":"close","agentId":"a","connectionId":"c","reason":"bored"}'],
  ])('rejects %s', (_name, raw) => {
    let caught: unknown;
    try {
      decodeGatewayCommand(raw);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidCommandError);
    expect((caught as InvalidCommandError).raw).toBe(raw);
    expect((caught as InvalidCommandError).name).toBe('InvalidCommandError');
  });
});
