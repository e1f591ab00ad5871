/**
 * How a WebSocket's bindings are named in connection history, the one rule gateways (which name
 * them) and the sweeper (which maps a history row back to the socket in the connection registry)
 * share.
 *
 * The registry names a socket by its connection id (the socket id). A socket may speak for several
 * agents over its life (the agent changed its instance_uid): each binding is one history row, the
 * first under the socket id, the n-th after it under `<socket id>.<n>`. Socket ids contain no dot.
 */

/** History connection id of binding `index` (0 for the first) of socket `socketId`. */
export function bindingConnectionId(socketId: string, index: number): string {
  return index === 0 ? socketId : `${socketId}.${index}`;
}

/** True when `historyId` names a binding of socket `socketId` (see {@link bindingConnectionId}). */
export function isBindingOf(historyId: string, socketId: string): boolean {
  if (historyId === socketId) return true;
  if (!historyId.startsWith(`${socketId}.`)) return false;
  return /^[1-9][0-9]*$/.test(historyId.slice(socketId.length + 1));
}
