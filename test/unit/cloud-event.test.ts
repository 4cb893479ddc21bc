import { BillingEvent } from '../../src/gen/billing/v1/event';
import { toCloudEventMessage } from '../../src/outbox/cloud-event';
import type { StoredEvent } from '../../src/ports/store.port';

const payload = BillingEvent.encode({
  id: 'evt_01',
  type: 'billing.customer.created',
  occurredAt: new Date('2026-01-02T03:04:05.678Z'),
  tenantId: 'acme',
  storefrontId: 'eu-web',
  provider: 'subotiz',
  aggregateId: 'cus_01',
  sequence: 42n,
  correlationId: 'req-1',
  actor: 'svc',
  providerEventId: '',
}).finish();

const event: StoredEvent = {
  eventId: 'evt_01',
  type: 'billing.customer.created',
  key: 'cus_01',
  stream: 'customers',
  storefrontId: 'eu-web',
  tenantId: 'acme',
  provider: 'subotiz',
  aggregateId: 'cus_01',
  sequence: 42n,
  occurredAt: new Date('2026-01-02T03:04:05.678Z'),
  payload,
};

describe('CloudEvents binary-mode Kafka message', () => {
  it('carries every ce_* header the contract lists, with a zero-padded sequence that sorts as text', () => {
    const message = toCloudEventMessage(event, {
      topicPrefix: 'billing',
      encoding: 'protobuf',
      traceHeaders: { traceparent: '00-a-b-01' },
    });
    expect(message.topic).toBe('billing.customers.v1');
    expect(message.key).toBe('cus_01');
    expect(message.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'evt_01',
      ce_source: '/storefronts/eu-web',
      ce_type: 'billing.customer.created',
      ce_time: '2026-01-02T03:04:05.678Z',
      ce_subject: 'cus_01',
      ce_sequence: '0000000000000000042',
      ce_provider: 'subotiz',
      ce_tenant: 'acme',
      'content-type': 'application/protobuf',
      traceparent: '00-a-b-01',
    });
    expect(message.value).toEqual(Buffer.from(payload));
    const later = toCloudEventMessage(
      { ...event, sequence: 100n },
      { topicPrefix: 'billing', encoding: 'protobuf', traceHeaders: {} },
    );
    expect(message.headers.ce_sequence! < later.headers.ce_sequence!).toBe(true);
  });

  it('encodes the same BillingEvent as JSON when asked', () => {
    const message = toCloudEventMessage(event, { topicPrefix: 'acme', encoding: 'json', traceHeaders: {} });
    expect(message.topic).toBe('acme.customers.v1');
    expect(message.headers['content-type']).toBe('application/json');
    expect(JSON.parse(message.value.toString())).toMatchObject({
      id: 'evt_01',
      sequence: '42',
      occurredAt: '2026-01-02T03:04:05.678Z',
    });
  });
});
