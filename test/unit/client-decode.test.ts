import { decodeBillingMessage, MalformedEventError, RawEventMessage } from '../../packages/client/src/decode';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { EventEncoding, toCloudEventMessage } from '../../src/outbox/cloud-event';
import type { StoredEvent } from '../../src/ports/store.port';

const billingEvent = BillingEvent.fromPartial({
  id: 'evt_01',
  type: 'billing.subscription.activated',
  occurredAt: new Date('2026-01-02T03:04:05.678Z'),
  tenantId: 'acme',
  storefrontId: 'eu-web',
  provider: 'paytiko',
  aggregateId: 'sub_01',
  sequence: 42n,
  correlationId: 'req-1',
  actor: 'svc',
  subscription: { id: 'sub_01', status: SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE, quantity: 2 },
});

const stored: StoredEvent = {
  eventId: 'evt_01',
  type: 'billing.subscription.activated',
  key: 'sub_01',
  stream: 'subscriptions',
  storefrontId: 'eu-web',
  tenantId: 'acme',
  provider: 'paytiko',
  aggregateId: 'sub_01',
  sequence: 42n,
  occurredAt: new Date('2026-01-02T03:04:05.678Z'),
  payload: BillingEvent.encode(billingEvent).finish(),
};

/** Header values as kafkajs may hand them over: a header without a value is null, a repeated one an array. */
type HeaderValue = string | null | Array<string | null> | undefined;

/** The message the service's relay would publish, as kafkajs hands it to a consumer (headers as Buffers). */
function kafkaMessage(encoding: EventEncoding, headers: Record<string, HeaderValue> = {}): RawEventMessage {
  const outgoing = toCloudEventMessage(stored, {
    topicPrefix: 'billing',
    encoding,
    traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'v=1' },
  });
  const merged: Record<string, HeaderValue> = { ...outgoing.headers, ...headers };
  const asBuffer = (value: string | null) => (value === null ? null : Buffer.from(value));
  const asKafkaHeaders = Object.fromEntries(
    Object.entries(merged)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.map(asBuffer) : asBuffer(value!)]),
  );
  return {
    topic: outgoing.topic,
    partition: 3,
    offset: '17',
    key: Buffer.from(outgoing.key),
    // kafkajs's IHeaders type leaves out the null it hands over for a header without a value.
    headers: asKafkaHeaders as RawEventMessage['headers'],
    value: Buffer.from(outgoing.value),
  };
}

function malformation(message: RawEventMessage): MalformedEventError {
  try {
    decodeBillingMessage(message);
  } catch (error) {
    if (error instanceof MalformedEventError) return error;
    throw error;
  }
  throw new Error('decoded a malformed message');
}

describe('decoding a billing event from Kafka', () => {
  it('reads the CloudEvents headers and the protobuf BillingEvent the service publishes', () => {
    expect(decodeBillingMessage(kafkaMessage('protobuf'))).toEqual({
      id: 'evt_01',
      type: 'billing.subscription.activated',
      source: '/storefronts/eu-web',
      subject: 'sub_01',
      time: new Date('2026-01-02T03:04:05.678Z'),
      sequence: 42n,
      provider: 'paytiko',
      tenant: 'acme',
      storefrontId: 'eu-web',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'v=1',
      contentType: 'application/protobuf',
      topic: 'billing.subscriptions.v1',
      partition: 3,
      offset: '17',
      key: 'sub_01',
      event: billingEvent,
    });
  });

  it('decodes the JSON encoding (EVENT_ENCODING=json) to the same BillingEvent', () => {
    const decoded = decodeBillingMessage(kafkaMessage('json'));
    expect(decoded.contentType).toBe('application/json');
    expect(decoded.event).toEqual(billingEvent);
    expect(decoded.event.sequence).toBe(42n);
  });

  it('accepts headers as strings and repeated headers as arrays, as kafkajs may give them', () => {
    const message = kafkaMessage('protobuf');
    const headers = { ...message.headers, ce_id: 'evt_01', ce_sequence: [Buffer.from('0000000000000000042'), '7'] };
    const decoded = decodeBillingMessage({ ...message, headers });
    expect(decoded.id).toBe('evt_01');
    expect(decoded.sequence).toBe(42n);
  });

  it('accepts an empty ce_provider: an event of no provider yet, like a new customer', () => {
    expect(decodeBillingMessage(kafkaMessage('protobuf', { ce_provider: '' })).provider).toBe('');
  });

  it.each([
    ['a missing ce_id', { ce_id: undefined }, 'ce_id'],
    ['an empty ce_type', { ce_type: '' }, 'ce_type'],
    ['a missing ce_provider', { ce_provider: undefined }, 'ce_provider'],
    ['a ce_sequence that is not a number', { ce_sequence: '12a' }, 'ce_sequence'],
    ['a ce_sequence of 0', { ce_sequence: '0000000000000000000' }, 'ce_sequence'],
    ['a ce_time that is not a time', { ce_time: 'yesterday' }, 'ce_time'],
    ['a ce_source outside /storefronts/', { ce_source: '/shops/eu-web' }, 'ce_source'],
    ['another CloudEvents version', { ce_specversion: '0.3' }, 'ce_specversion'],
    ['an unknown content-type', { 'content-type': 'application/avro' }, 'content-type'],
  ])('refuses %s with a MalformedEventError naming the header', (_case, headers, header) => {
    const error = malformation(kafkaMessage('protobuf', headers));
    expect(error.header).toBe(header);
    expect(error.message).toContain(header);
  });

  it.each([
    ['a ce_id header without a value (kafkajs gives null)', { ce_id: null }, 'ce_id'],
    ['a repeated ce_id whose first value is null', { ce_id: [null, 'evt_01'] }, 'ce_id'],
    ['a ce_id longer than 256 bytes', { ce_id: 'e'.repeat(257) }, 'ce_id'],
    ['a ce_type of a megabyte', { ce_type: 't'.repeat(1 << 20) }, 'ce_type'],
    ['a ce_sequence of 10^30', { ce_sequence: `1${'0'.repeat(30)}` }, 'ce_sequence'],
    ['a ce_sequence of 2^63, past int64', { ce_sequence: (2n ** 63n).toString() }, 'ce_sequence'],
  ])('refuses %s as malformed, without throwing anything else', (_case, headers, header) => {
    const error = malformation(kafkaMessage('protobuf', headers));
    expect(error.header).toBe(header);
    expect(error.message.length).toBeLessThan(200);
  });

  it('accepts the largest int64 ce_sequence', () => {
    const largest = 2n ** 63n - 1n;
    expect(decodeBillingMessage(kafkaMessage('protobuf', { ce_sequence: largest.toString() })).sequence).toBe(largest);
  });

  it('refuses a key longer than 256 bytes', () => {
    const message = { ...kafkaMessage('protobuf'), key: Buffer.from('k'.repeat(257)) };
    expect(malformation(message).header).toBe('key');
  });

  it('quotes and truncates a header value it names, so a newline cannot split or forge a log line', () => {
    const forged = `/shops/x\nbilling event consumer: all good ${'x'.repeat(150)}`;
    const error = malformation(kafkaMessage('protobuf', { ce_source: forged }));
    expect(error.header).toBe('ce_source');
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).toContain(JSON.stringify(forged.slice(0, 100)));
    expect(error.message).not.toContain('x'.repeat(150));
  });

  it('refuses a value that is not the content-type it claims', () => {
    const message = { ...kafkaMessage('json'), value: Buffer.from('{"id": ') };
    expect(malformation(message).message).toBe('the value is not a billing.v1.BillingEvent in application/json');
    const garbage = { ...kafkaMessage('protobuf'), value: Buffer.from([0xff, 0xff, 0xff]) };
    expect(malformation(garbage).message).toBe('the value is not a billing.v1.BillingEvent in application/protobuf');
  });
});
