import type { IHeaders } from 'kafkajs';
import { BillingEvent } from '../../../src/gen/billing/v1/event';
import { quoted } from './quoted';

/** One Kafka message as kafkajs hands it over, with where it came from. */
export interface RawEventMessage {
  topic: string;
  partition: number;
  offset: string;
  key?: Buffer | string | null;
  headers?: IHeaders;
  value?: Buffer | null;
}

/** A billing event read from Kafka: its CloudEvents attributes, where it was read, and the BillingEvent itself. */
export interface DecodedEvent {
  id: string;
  type: string;
  source: string;
  subject: string;
  time: Date;
  /** Per Kafka key, from 1, without gaps across topics. */
  sequence: bigint;
  provider: string;
  tenant: string;
  storefrontId: string;
  traceparent?: string;
  tracestate?: string;
  contentType: string;
  topic: string;
  partition: number;
  offset: string;
  key: string;
  event: BillingEvent;
}

/** A message that is not a billing CloudEvent this client can read; `header` names the header at fault, if one is. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';

  constructor(
    message: string,
    readonly header?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const SOURCE_PREFIX = '/storefronts/';
const DECIMAL = /^[0-9]+$/;
const MAX_SEQUENCE = 2n ** 63n - 1n;
/** Ids, names and times are far shorter; a longer header or key is hostile or broken, and is not carried further. */
const MAX_HEADER_BYTES = 256;
/** W3C Trace Context lets vendors fill tracestate up to 512 characters. */
const MAX_TRACESTATE_BYTES = 512;

/** Reads a CloudEvents 1.0 binary-mode message into a DecodedEvent, or throws MalformedEventError saying why. */
export function decodeBillingMessage(message: RawEventMessage): DecodedEvent {
  const header = (name: string, maxBytes = MAX_HEADER_BYTES) => {
    const value = headerText(message.headers, name);
    if (value !== undefined && Buffer.byteLength(value) > maxBytes) {
      throw new MalformedEventError(`header ${name} is longer than ${maxBytes} bytes`, name);
    }
    return value;
  };
  const required = (name: string) => {
    const value = header(name);
    if (!value) throw new MalformedEventError(`header ${name} is missing or empty`, name);
    return value;
  };
  const present = (name: string) => {
    const value = header(name);
    if (value === undefined) throw new MalformedEventError(`header ${name} is missing`, name);
    return value;
  };
  const specVersion = required('ce_specversion');
  if (specVersion !== '1.0') {
    throw new MalformedEventError(`ce_specversion is ${quoted(specVersion)}, not "1.0"`, 'ce_specversion');
  }
  const source = required('ce_source');
  if (!source.startsWith(SOURCE_PREFIX) || source.length === SOURCE_PREFIX.length) {
    throw new MalformedEventError(`ce_source ${quoted(source)} is not ${SOURCE_PREFIX}{id}`, 'ce_source');
  }
  const time = new Date(required('ce_time'));
  if (Number.isNaN(time.getTime())) throw new MalformedEventError('ce_time is not an RFC 3339 time', 'ce_time');
  const sequence = sequenceOf(required('ce_sequence'));
  const key = message.key == null ? '' : message.key.toString();
  if (!key) throw new MalformedEventError('the message has no key', 'key');
  if (Buffer.byteLength(key) > MAX_HEADER_BYTES) {
    throw new MalformedEventError(`the key is longer than ${MAX_HEADER_BYTES} bytes`, 'key');
  }
  const contentType = required('content-type');
  const traceparent = header('traceparent');
  const tracestate = header('tracestate', MAX_TRACESTATE_BYTES);
  return {
    id: required('ce_id'),
    type: required('ce_type'),
    source,
    subject: required('ce_subject'),
    time,
    sequence,
    // Empty for events of no provider yet (a customer before its first subscription, say).
    provider: present('ce_provider'),
    tenant: required('ce_tenant'),
    storefrontId: source.slice(SOURCE_PREFIX.length),
    ...(traceparent && { traceparent }),
    ...(tracestate && { tracestate }),
    contentType,
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key,
    event: decodeValue(contentType, message.value),
  };
}

/** ce_sequence counts from 1 and fits the int64 the service stores it in. */
function sequenceOf(text: string): bigint {
  const sequence = DECIMAL.test(text) ? BigInt(text) : 0n;
  if (sequence < 1n || sequence > MAX_SEQUENCE) {
    throw new MalformedEventError(
      `ce_sequence ${quoted(text)} is not a decimal number from 1 to 2^63-1`,
      'ce_sequence',
    );
  }
  return sequence;
}

function decodeValue(contentType: string, value: Buffer | null | undefined): BillingEvent {
  if (!value) throw new MalformedEventError('the message has no value');
  // Parameters such as "; charset=utf-8" do not change which decoder applies.
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  try {
    if (mediaType === 'application/protobuf') return BillingEvent.decode(value);
    if (mediaType === 'application/json') return BillingEvent.fromJSON(JSON.parse(value.toString('utf8')));
  } catch (cause) {
    throw new MalformedEventError(`the value is not a billing.v1.BillingEvent in ${mediaType}`, undefined, { cause });
  }
  throw new MalformedEventError(
    `content-type ${quoted(contentType)} is neither application/protobuf nor application/json`,
    'content-type',
  );
}

/**
 * kafkajs gives a header as Buffer, string, or an array of them when repeated; the first value counts. A header
 * without a value comes as null, and counts as missing.
 */
function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw: unknown = headers?.[name];
  const first: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (typeof first === 'string') return first;
  return Buffer.isBuffer(first) ? first.toString() : undefined;
}
