import type { opamp } from '../gen/opamp.js';

type KeyValue = opamp.proto.v1.KeyValue.$Properties;
type AnyValue = opamp.proto.v1.AnyValue.$Properties;
type ComponentHealth = opamp.proto.v1.ComponentHealth.$Properties;
type ComponentDetails = opamp.proto.v1.ComponentDetails.$Properties;
type AvailableComponents = opamp.proto.v1.AvailableComponents.$Properties;
type AgentDescription = opamp.proto.v1.AgentDescription.$Properties;

/** The AgentToServer sub-messages that carry KeyValue attributes. */
export interface AttributeCarriers {
  agentDescription?: AgentDescription | null;
  health?: ComponentHealth | null;
  availableComponents?: AvailableComponents | null;
}

/**
 * Name of the first sub-message holding an AnyValue nested deeper than `maxDepth`, or undefined.
 * A scalar attribute value has depth 1; each array/kvlist level adds 1. Iterative (explicit stacks),
 * so its own stack use does not grow with the nesting it inspects.
 */
export function findTooDeepAttributes(msg: AttributeCarriers, maxDepth: number): string | undefined {
  const description = msg.agentDescription;
  if (description) {
    if (tooDeep(description.identifyingAttributes, maxDepth)) return 'agent_description';
    if (tooDeep(description.nonIdentifyingAttributes, maxDepth)) return 'agent_description';
  }
  if (msg.health && healthTooDeep(msg.health, maxDepth)) return 'health';
  if (msg.availableComponents && componentsTooDeep(msg.availableComponents, maxDepth)) {
    return 'available_components';
  }
  return undefined;
}

function healthTooDeep(root: ComponentHealth, maxDepth: number): boolean {
  const pending: ComponentHealth[] = [root];
  for (let health = pending.pop(); health; health = pending.pop()) {
    if (tooDeep(health.attributes, maxDepth)) return true;
    // A loop, not push(...values): spreading a huge map would overflow the call stack.
    for (const child of Object.values(health.componentHealthMap ?? {})) pending.push(child);
  }
  return false;
}

function componentsTooDeep(root: AvailableComponents, maxDepth: number): boolean {
  const pending: ComponentDetails[] = root.components ? Object.values(root.components) : [];
  for (let details = pending.pop(); details; details = pending.pop()) {
    if (tooDeep(details.metadata, maxDepth)) return true;
    for (const child of Object.values(details.subComponentMap ?? {})) pending.push(child);
  }
  return false;
}

function tooDeep(attributes: readonly KeyValue[] | null | undefined, maxDepth: number): boolean {
  if (!attributes || attributes.length === 0) return false;
  const values: AnyValue[] = [];
  const depths: number[] = [];
  for (const kv of attributes) {
    if (kv.value) {
      values.push(kv.value);
      depths.push(1);
    }
  }
  for (let value = values.pop(); value; value = values.pop()) {
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    for (const child of value.arrayValue?.values ?? []) {
      values.push(child);
      depths.push(depth + 1);
    }
    for (const kv of value.kvlistValue?.values ?? []) {
      if (kv.value) {
        values.push(kv.value);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
