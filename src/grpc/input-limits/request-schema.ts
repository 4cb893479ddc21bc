import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_DEPTH } from './limit-rules';

/** How the walker sees one field of a decoded (ts-proto) request. */
export type FieldType =
  | { kind: 'string' | 'bool' | 'bytes' | 'float' }
  | { kind: 'int32' | 'int64' }
  | { kind: 'enum'; values: ReadonlySet<number> }
  | { kind: 'timestamp' }
  | { kind: 'message'; schema: () => MessageSchema }
  | { kind: 'map'; value: FieldType };

export interface FieldSchema {
  /** As in the proto (snake_case): the name errors use and rules are keyed by. */
  name: string;
  /** As ts-proto names the property (camelCase). */
  key: string;
  repeated: boolean;
  type: FieldType;
}

export interface MessageSchema {
  fields: readonly FieldSchema[];
}

// The descriptor shapes proto-loader returns (google.protobuf.DescriptorProto as plain objects).
export interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
export interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options?: { mapEntry?: boolean } | null;
}
interface EnumDescriptor {
  value: { number: number }[];
}

const PROTO_DIR = path.resolve(__dirname, '../../../proto');
const PACKAGE = 'billing.v1';

const SCALARS: Record<string, FieldType> = {
  TYPE_STRING: { kind: 'string' },
  TYPE_BOOL: { kind: 'bool' },
  TYPE_BYTES: { kind: 'bytes' },
  TYPE_DOUBLE: { kind: 'float' },
  TYPE_FLOAT: { kind: 'float' },
  TYPE_INT32: { kind: 'int32' },
  TYPE_SINT32: { kind: 'int32' },
  TYPE_SFIXED32: { kind: 'int32' },
  TYPE_UINT32: { kind: 'int32' },
  TYPE_FIXED32: { kind: 'int32' },
  TYPE_INT64: { kind: 'int64' },
  TYPE_SINT64: { kind: 'int64' },
  TYPE_SFIXED64: { kind: 'int64' },
  TYPE_UINT64: { kind: 'int64' },
  TYPE_FIXED64: { kind: 'int64' },
};

/** ts-proto's property name for a proto field name. */
export const camelCase = (name: string) => name.replace(/_([a-z0-9])/gi, (_, c: string) => c.toUpperCase());

/**
 * The request schema of every billing.v1 RPC, keyed by path (`billing.v1.CustomerService/GetCustomer`), read from
 * the same proto files the server's reflection serves. Throws at start-up if a type cannot be resolved.
 */
export function loadRequestSchemas(protoDir = PROTO_DIR): Map<string, MessageSchema> {
  const files = fs
    .readdirSync(path.join(protoDir, 'billing/v1'))
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `billing/v1/${f}`);
  const definitions = protoLoader.loadSync(files, { includeDirs: [protoDir], keepCase: true });
  const cache = new Map<string, MessageSchema>();

  const lookup = (typeName: string) => {
    const found = definitions[`${PACKAGE}.${typeName}`] ?? definitions[typeName.replace(/^\./, '')];
    if (!found || !('type' in found)) throw new Error(`input limits: cannot resolve proto type ${typeName}`);
    return found.type as unknown;
  };

  const fieldType = (field: FieldDescriptor, owner: MessageDescriptor): FieldType => {
    if (field.type === 'TYPE_ENUM') {
      const values = (lookup(field.typeName) as EnumDescriptor).value.map((v) => v.number);
      return { kind: 'enum', values: new Set(values) };
    }
    if (field.type !== 'TYPE_MESSAGE') {
      const scalar = SCALARS[field.type];
      if (!scalar) throw new Error(`input limits: unsupported field type ${field.type} of ${field.name}`);
      return scalar;
    }
    if (/(^|\.)google\.protobuf\.Timestamp$/.test(field.typeName)) return { kind: 'timestamp' };
    const nested = owner.nestedType.find((n) => n.name === field.typeName);
    if (nested?.options?.mapEntry) {
      const value = nested.field.find((f) => f.name === 'value')!;
      return { kind: 'map', value: fieldType(value, nested) };
    }
    const typeName = field.typeName;
    return { kind: 'message', schema: () => schemaOf(typeName, nested) };
  };

  const schemaOf = (typeName: string, nested?: MessageDescriptor): MessageSchema => {
    const cached = nested ? undefined : cache.get(typeName);
    if (cached) return cached;
    const descriptor = nested ?? (lookup(typeName) as MessageDescriptor);
    const schema: MessageSchema = {
      fields: descriptor.field.map((f) => ({
        name: f.name,
        key: camelCase(f.name),
        repeated: f.label === 'LABEL_REPEATED' && fieldType(f, descriptor).kind !== 'map',
        type: fieldType(f, descriptor),
      })),
    };
    if (!nested) cache.set(typeName, schema);
    return schema;
  };

  const schemas = new Map<string, MessageSchema>();
  for (const [name, definition] of Object.entries(definitions)) {
    if (!name.startsWith(`${PACKAGE}.`) || 'format' in definition) continue;
    for (const method of Object.values(definition as protoLoader.ServiceDefinition)) {
      const requestType = method.requestType.type as unknown as MessageDescriptor;
      const schema = schemaOf(`request:${method.path}`, requestType);
      // Resolve every nested type now, so an unresolvable one fails at start-up rather than on a call.
      const visit = (s: MessageSchema, depth: number) => {
        for (const f of s.fields) if (f.type.kind === 'message' && depth < MAX_DEPTH) visit(f.type.schema(), depth + 1);
      };
      visit(schema, 0);
      schemas.set(method.path.slice(1), schema);
    }
  }
  return schemas;
}
