import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import type { FieldDescriptor, MessageDescriptor } from '../../src/grpc/input-limits/request-schema';

/**
 * Hostile requests for every RPC of every billing.v1 service, generated from the proto files (the ones the server's
 * reflection serves): a new RPC or field is fuzzed without editing the test.
 */

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const MAX_DEPTH = 3;
const MiB = 1 << 20;

/** One RPC as the fuzzer sees it. */
export interface FuzzRpc {
  /** `/billing.v1.CustomerService/GetCustomer` */
  path: string;
  serialize(request: object): Buffer;
  cases(base: BaseValues): FuzzCase[];
}

export interface FuzzCase {
  rpc: string;
  /** What was made hostile, for failure messages. */
  label: string;
  bytes: Buffer;
}

/** Values of the seeded world, so ids that exist are also fuzzed in the other fields. */
export type BaseValues = Record<string, string>;

type Request = Record<string, unknown>;

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const HOSTILE_STRINGS: [string, string][] = [
  ['non-ASCII', 'é'],
  ['emoji', '😀'],
  ['control character', 'a\u0007b'],
  ['NUL', 'a\u0000b'],
  ['newline', 'line\nbreak'],
  ['right-to-left override', '\u202eevil'],
  ['quote and SQL', "x' OR '1'='1"],
  ['1 MiB', 'x'.repeat(MiB)],
];
const HOSTILE_BY_NAME: Record<string, [string, string][]> = {
  page_token: [
    ['forged token', base64url("p1:x' OR '1'='1")],
    ['forged numeric token', base64url('p1:99999999999999999999999')],
    ['token of another shape', base64url('p2:cus_01')],
    ['non-base64 token', '!!!'],
    ['long token', 'A'.repeat(4000)],
  ],
  amount_decimal: [
    ['too precise money', '0.001'],
    ['huge money', `${'9'.repeat(30)}.99`],
    ['negative money', '-5.00'],
    ['exponent money', '1e3'],
  ],
};
const HOSTILE_INT64: [string, string][] = [
  ['int64 max', '9223372036854775807'],
  ['int64 min', '-9223372036854775808'],
  ['negative', '-1'],
  ['above 10^12', '1000000000001'],
];
const HOSTILE_INT32: [string, number][] = [
  ['int32 max', 2147483647],
  ['int32 min', -2147483648],
  ['negative', -1],
];
const HOSTILE_TIMESTAMPS: [string, object][] = [
  ['seconds 10^12', { seconds: '1000000000000', nanos: 0 }],
  ['seconds -10^12', { seconds: '-1000000000000', nanos: 0 }],
  ['seconds int64 max', { seconds: '9223372036854775807', nanos: 0 }],
  ['nanos out of range', { seconds: '1700000000', nanos: 2147483647 }],
  ['negative nanos', { seconds: '1700000000', nanos: -1 }],
];
const manyEntries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
const HOSTILE_MAPS: [string, Record<string, string>][] = [
  ['map key with NUL', { 'a\u0000b': 'v' }],
  ['non-ASCII map key', { é: 'v' }],
  ['empty map key', { '': 'v' }],
  ['non-ASCII map value', { k: 'é' }],
  ['1 MiB map value', { k: 'x'.repeat(MiB) }],
  ['10,000 map entries', manyEntries(10_000)],
];

/** Raw bytes that are not a valid message of any request type. */
export const MALFORMED: [string, Buffer][] = [
  ['truncated varint', Buffer.from([0x08, 0xff])],
  ['length beyond the end', Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x61])],
  ['invalid UTF-8 in field 1', Buffer.from([0x0a, 0x02, 0xc3, 0x28])],
  ['wire type 7', Buffer.from([0x0f, 0x01])],
  ['field number 0', Buffer.from([0x00, 0x01])],
  ['overlong varint', Buffer.from([0x08, ...Array(11).fill(0xff), 0x01])],
  ['deep group nesting', Buffer.from(Array(2000).fill(0x0b))],
];

/** Every RPC of every billing.v1 service in the proto files. */
export function loadFuzzRpcs(): FuzzRpc[] {
  const files = fs
    .readdirSync(path.join(PROTO_DIR, 'billing/v1'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `billing/v1/${f}`);
  const definitions = protoLoader.loadSync(files, {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: Number,
  });
  const lookup = (typeName: string) =>
    (definitions[`billing.v1.${typeName}`] ?? definitions[typeName.replace(/^\./, '')]) as { type: unknown };

  const rpcs: FuzzRpc[] = [];
  for (const [name, definition] of Object.entries(definitions)) {
    if (!name.startsWith('billing.v1.') || 'format' in definition) continue;
    for (const method of Object.values(definition as protoLoader.ServiceDefinition)) {
      const descriptor = method.requestType.type as unknown as MessageDescriptor;
      const serialize = (request: object) => method.requestSerialize(request);
      rpcs.push({
        path: method.path,
        serialize,
        cases: (base) => casesOf(method.path, descriptor, base, lookup, serialize),
      });
    }
  }
  return rpcs;
}

type Lookup = (typeName: string) => { type: unknown };

function casesOf(
  rpc: string,
  descriptor: MessageDescriptor,
  base: BaseValues,
  lookup: Lookup,
  serialize: (request: object) => Buffer,
): FuzzCase[] {
  const valid = baseMessage(descriptor, base, lookup, 0);
  const cases: FuzzCase[] = [];
  const add = (label: string, request: object) => cases.push({ rpc, label, bytes: serialize(request) });

  // One hostile value at a time, in every field, nested messages included.
  const visit = (message: MessageDescriptor, at: string[], depth: number) => {
    for (const field of message.field) {
      const fieldPath = [...at, field.name];
      const label = (what: string) => `${fieldPath.join('.')} = ${what}`;
      const nested = message.nestedType.find((n) => n.name === field.typeName);
      const repeated = field.label === 'LABEL_REPEATED';
      if (nested?.options?.mapEntry) {
        for (const [what, value] of HOSTILE_MAPS) add(label(what), withValue(valid, fieldPath, value));
      } else if (field.type === 'TYPE_MESSAGE' && /Timestamp$/.test(field.typeName)) {
        for (const [what, value] of HOSTILE_TIMESTAMPS) add(label(what), withValue(valid, fieldPath, value));
      } else if (field.type === 'TYPE_MESSAGE') {
        if (depth < MAX_DEPTH) visit(lookup(field.typeName).type as MessageDescriptor, fieldPath, depth + 1);
      } else {
        for (const [what, value] of scalarHostiles(field)) {
          add(label(what), withValue(valid, fieldPath, repeated ? [value] : value));
        }
        if (repeated) {
          const one = scalarHostiles(field)[0]?.[1] ?? 1;
          add(label('10,000 entries'), withValue(valid, fieldPath, Array(10_000).fill(one)));
        }
      }
    }
  };
  visit(descriptor, [], 0);

  // Everything hostile at once, and nothing at all.
  add(
    'every string non-ASCII with NUL',
    baseMessage(descriptor, base, lookup, 0, () => 'é\u0000'),
  );
  add('empty request', {});
  return cases;
}

function scalarHostiles(field: FieldDescriptor): [string, unknown][] {
  switch (field.type) {
    case 'TYPE_STRING':
      return [...(HOSTILE_BY_NAME[field.name] ?? []), ...HOSTILE_STRINGS];
    case 'TYPE_INT64':
    case 'TYPE_UINT64':
    case 'TYPE_SINT64':
      return HOSTILE_INT64;
    case 'TYPE_INT32':
    case 'TYPE_UINT32':
    case 'TYPE_SINT32':
      return HOSTILE_INT32;
    case 'TYPE_ENUM':
      return [
        ['unknown enum number', 999],
        ['negative enum number', -1],
      ];
    default:
      return [];
  }
}

/** A plausible request: the seeded world's ids where the field names one, defaults elsewhere. */
function baseMessage(
  descriptor: MessageDescriptor,
  base: BaseValues,
  lookup: Lookup,
  depth: number,
  stringOf = (name: string) => base[name] ?? '',
): Request {
  const message: Request = {};
  for (const field of descriptor.field) {
    const nested = descriptor.nestedType.find((n) => n.name === field.typeName);
    if (field.label === 'LABEL_REPEATED' || nested?.options?.mapEntry) continue;
    if (field.type === 'TYPE_MESSAGE' && /Timestamp$/.test(field.typeName)) {
      message[field.name] = { seconds: String(Math.floor(Date.now() / 1000) - 60), nanos: 0 };
    } else if (field.type === 'TYPE_MESSAGE') {
      if (depth < MAX_DEPTH)
        message[field.name] = baseMessage(
          lookup(field.typeName).type as MessageDescriptor,
          base,
          lookup,
          depth + 1,
          stringOf,
        );
    } else if (field.type === 'TYPE_STRING') {
      message[field.name] = stringOf(field.name);
    } else if (field.type === 'TYPE_ENUM') {
      message[field.name] = 1;
    } else if (field.type === 'TYPE_BOOL') {
      message[field.name] = false;
    } else {
      message[field.name] = base[field.name] ?? '1';
    }
  }
  return message;
}

function withValue(message: Request, at: string[], value: unknown): Request {
  const [head, ...rest] = at;
  const copy = { ...message };
  copy[head!] = rest.length === 0 ? value : withValue((message[head!] as Request | undefined) ?? {}, rest, value);
  return copy;
}
