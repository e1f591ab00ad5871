import { describe, expect, it } from 'vitest';
import { bindingConnectionId, isBindingOf } from './binding-id.js';

describe('binding connection ids', () => {
  it('names the first binding by the socket id and later ones <socket id>.<n>', () => {
    expect(bindingConnectionId('ab12-7', 0)).toBe('ab12-7');
    expect(bindingConnectionId('ab12-7', 1)).toBe('ab12-7.1');
    expect(bindingConnectionId('ab12-7', 12)).toBe('ab12-7.12');
  });

  it('maps every name it gives back to its socket, and nothing else', () => {
    for (const n of [0, 1, 2, 10, 99]) {
      expect(isBindingOf(bindingConnectionId('s-1', n), 's-1')).toBe(true);
      expect(isBindingOf(bindingConnectionId('s-1', n), 's-2')).toBe(false);
    }
    for (const other of ['s-10', 's-1.', 's-1.x', 's-1.0', 's-1.01', 's-1.1.2', 's', '']) {
      expect(isBindingOf(other, 's-1')).toBe(false);
    }
  });
});
