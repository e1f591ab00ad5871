import Long from 'long';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { encodeAgentToServer, encodeServerToAgent } from './codec.js';
import {
  AgentCapabilities,
  AgentToServerFlags,
  ServerCapabilities,
  ServerErrorResponseType,
  ServerToAgentFlags,
} from './constants.js';
import { pb } from './proto.js';

const UID = new Uint8Array(16).fill(7);

const longToNumber = (value: { low: number; high: number }) =>
  Long.fromBits(value.low, value.high, true).toNumber();

/** Top-level fields of a protobuf message as [field number, wire type, value]. */
function fields(bytes: Uint8Array): Array<[number, number, number | Uint8Array]> {
  const reader = protobuf.Reader.create(bytes);
  const out: Array<[number, number, number | Uint8Array]> = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (wireType === 0) out.push([tag >>> 3, 0, reader.uint32()]);
    else if (wireType === 2) out.push([tag >>> 3, 2, new Uint8Array(reader.bytes())]);
    else if (wireType === 1) out.push([tag >>> 3, 1, longToNumber(reader.fixed64())]);
    else throw new Error(`unexpected wire type ${wireType}`);
  }
  return out;
}

function field(bytes: Uint8Array, number: number): [number, number | Uint8Array] {
  const found = fields(bytes).find(([n]) => n === number);
  if (!found) throw new Error(`field ${number} not on the wire`);
  return [found[1], found[2]];
}

describe('wire format of the generated code', () => {
  it('AgentToServer: uid 1, sequence_num 2, capabilities 4, flags 10 (varints)', () => {
    const bytes = encodeAgentToServer({ instanceUid: UID, sequenceNum: 5, capabilities: 0x2001, flags: 1 });
    expect(fields(bytes)).toEqual([
      [1, 2, UID],
      [2, 0, 5],
      [4, 0, 0x2001],
      [10, 0, 1],
    ]);
  });

  it('AgentToServer sub-messages: description 3, health 5, remote config status 7, disconnect 9, components 14, cs status 15', () => {
    const bytes = encodeAgentToServer({
      agentDescription: { identifyingAttributes: [{ key: 'service.name', value: { stringValue: 'x' } }] },
      health: { healthy: true, startTimeUnixNano: 42 },
      effectiveConfig: {},
      remoteConfigStatus: {},
      packageStatuses: {},
      agentDisconnect: {},
      connectionSettingsRequest: {},
      customCapabilities: {},
      customMessage: {},
      availableComponents: {},
      connectionSettingsStatus: {},
    });
    expect(fields(bytes).map(([n, w]) => [n, w])).toEqual(
      [3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15].map((n) => [n, 2]),
    );
    const [, health] = field(bytes, 5);
    expect(fields(health as Uint8Array)).toEqual([
      [1, 0, 1],
      [2, 1, 42], // start_time_unix_nano is fixed64
    ]);
  });

  it('ServerToAgent: flags 6, capabilities 7, agent_identification 8, command 9 (empty but present)', () => {
    const bytes = encodeServerToAgent({
      instanceUid: UID,
      flags: ServerToAgentFlags.ReportFullState,
      capabilities: 0x25,
      agentIdentification: { newInstanceUid: UID },
      command: {},
    });
    expect(fields(bytes)).toEqual([
      [1, 2, UID],
      [6, 0, 1],
      [7, 0, 0x25],
      [8, 2, Uint8Array.from([0x0a, 16, ...UID])],
      [9, 2, new Uint8Array(0)],
    ]);
  });

  it('ServerToAgent: error_response 2 with retry_info 3; connection_settings 4 -> opamp 2 -> heartbeat 4', () => {
    const error = encodeServerToAgent({
      errorResponse: { type: 2, errorMessage: 'busy', retryInfo: { retryAfterNanoseconds: 1000 } },
    });
    const [, response] = field(error, 2);
    expect(fields(response as Uint8Array)).toEqual([
      [1, 0, 2],
      [2, 2, new TextEncoder().encode('busy')],
      [3, 2, Uint8Array.from([0x08, 0xe8, 0x07])],
    ]);
    const settings = encodeServerToAgent({ connectionSettings: { opamp: { heartbeatIntervalSeconds: 30 } } });
    const [, offers] = field(settings, 4);
    const [, opamp] = field(offers as Uint8Array, 2);
    expect(fields(opamp as Uint8Array)).toEqual([[4, 0, 30]]);
  });

  it('AnyValue: string 1, bool 2, int 3, double 4 (fixed64), array 5, kvlist 6, bytes 7', () => {
    const encode = (value: Parameters<typeof pb.AnyValue.encode>[0]) => pb.AnyValue.encode(value).finish();
    expect(fields(encode({ stringValue: 'a' }))[0]?.slice(0, 2)).toEqual([1, 2]);
    expect(fields(encode({ boolValue: true }))[0]?.slice(0, 2)).toEqual([2, 0]);
    expect(fields(encode({ intValue: 3 }))[0]?.slice(0, 2)).toEqual([3, 0]);
    expect(fields(encode({ doubleValue: 1.5 }))[0]?.slice(0, 2)).toEqual([4, 1]);
    expect(fields(encode({ arrayValue: {} }))[0]?.slice(0, 2)).toEqual([5, 2]);
    expect(fields(encode({ kvlistValue: {} }))[0]?.slice(0, 2)).toEqual([6, 2]);
    expect(fields(encode({ bytesValue: new Uint8Array(1) }))[0]?.slice(0, 2)).toEqual([7, 2]);
  });
});

describe('named constants equal the generated enums', () => {
  const cases: Array<[string, object, object]> = [
    ['AgentCapabilities', AgentCapabilities, pb.AgentCapabilities],
    ['ServerCapabilities', ServerCapabilities, pb.ServerCapabilities],
    ['AgentToServerFlags', AgentToServerFlags, pb.AgentToServerFlags],
    ['ServerToAgentFlags', ServerToAgentFlags, pb.ServerToAgentFlags],
    ['ServerErrorResponseType', ServerErrorResponseType, pb.ServerErrorResponseType],
  ];
  it.each(cases)('%s', (prefix, named, generated) => {
    const fromProto = Object.fromEntries(
      Object.entries(generated)
        .filter(([name]) => !/_(Unspecified)$/.test(name))
        .map(([name, value]) => [name.slice(prefix.length + 1), value]),
    );
    expect(named).toEqual(fromProto);
  });
});
