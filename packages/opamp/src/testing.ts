/**
 * Raw-bytes builders for hostile AgentToServer payloads, for tests of this package and of the
 * transports (exported as `@opamp-fleet/opamp/testing`). Built with protobufjs' Writer fork/ldelim,
 * so building is linear in the depth and uses no recursion.
 */
import protobuf from 'protobufjs/minimal.js';

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
/** A fixed 16-byte uid so payloads are reproducible. */
export const TEST_UID = Uint8Array.from([
  0x01, 0x90, 0x00, 0x00, 0x00, 0x00, 0x70, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
]);

function tag(field: number, wireType: number): number {
  return ((field << 3) | wireType) >>> 0;
}

function startAgentToServer(uid: Uint8Array): protobuf.Writer {
  const writer = protobuf.Writer.create();
  writer.uint32(tag(1, LENGTH_DELIMITED)).bytes(uid); // instance_uid
  writer.uint32(tag(4, VARINT)).uint32(1); // capabilities = ReportsStatus
  return writer;
}

function closeAll(writer: protobuf.Writer, forks: number): Uint8Array {
  for (let i = 0; i < forks; i++) writer.ldelim();
  return writer.finish();
}

/**
 * AgentToServer whose agent_description holds one identifying attribute nested `depth` AnyValue
 * levels deep (depth 1 = a plain string value), through array_value or kvlist_value.
 */
export function nestedAttributePayload(
  depth: number,
  kind: 'array' | 'kvlist' = 'array',
  uid = TEST_UID,
): Uint8Array {
  const writer = startAgentToServer(uid);
  writer.uint32(tag(3, LENGTH_DELIMITED)).fork(); // agent_description
  writer.uint32(tag(1, LENGTH_DELIMITED)).fork(); // identifying_attributes[0]: KeyValue
  writer.uint32(tag(1, LENGTH_DELIMITED)).string('k');
  writer.uint32(tag(2, LENGTH_DELIMITED)).fork(); // value: AnyValue (level 1)
  let forks = 3;
  for (let level = 1; level < depth; level++) {
    if (kind === 'array') {
      writer.uint32(tag(5, LENGTH_DELIMITED)).fork(); // array_value: ArrayValue
      writer.uint32(tag(1, LENGTH_DELIMITED)).fork(); // values[0]: AnyValue
      forks += 2;
    } else {
      writer.uint32(tag(6, LENGTH_DELIMITED)).fork(); // kvlist_value: KeyValueList
      writer.uint32(tag(1, LENGTH_DELIMITED)).fork(); // values[0]: KeyValue
      writer.uint32(tag(1, LENGTH_DELIMITED)).string('k');
      writer.uint32(tag(2, LENGTH_DELIMITED)).fork(); // value: AnyValue
      forks += 3;
    }
  }
  writer.uint32(tag(1, LENGTH_DELIMITED)).string('leaf'); // string_value
  return closeAll(writer, forks);
}

/** AgentToServer whose health nests `depth` ComponentHealth levels through component_health_map. */
export function nestedHealthPayload(depth: number, uid = TEST_UID): Uint8Array {
  const writer = startAgentToServer(uid);
  writer.uint32(tag(5, LENGTH_DELIMITED)).fork(); // health (level 1)
  let forks = 1;
  for (let level = 1; level < depth; level++) {
    writer.uint32(tag(6, LENGTH_DELIMITED)).fork(); // component_health_map entry
    writer.uint32(tag(1, LENGTH_DELIMITED)).string('c');
    writer.uint32(tag(2, LENGTH_DELIMITED)).fork(); // entry value: ComponentHealth
    forks += 2;
  }
  writer.uint32(tag(1, VARINT)).bool(true); // healthy
  return closeAll(writer, forks);
}

/** AgentToServer with an unknown field (number 100) made of `depth` nested protobuf groups. */
export function nestedGroupsPayload(depth: number, uid = TEST_UID): Uint8Array {
  const writer = startAgentToServer(uid);
  for (let i = 0; i < depth; i++) writer.uint32(tag(100, START_GROUP));
  for (let i = 0; i < depth; i++) writer.uint32(tag(100, END_GROUP));
  return writer.finish();
}

/** Prefixes protobuf data with the WebSocket header 0x00. */
export function withWsHeader(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(data.length + 1);
  frame.set(data, 1);
  return frame;
}
