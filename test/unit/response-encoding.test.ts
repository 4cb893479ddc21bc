import type * as grpc from '@grpc/grpc-js';
import * as catalog from '../../src/gen/billing/v1/catalog';
import * as customer from '../../src/gen/billing/v1/customer';
import * as entitlement from '../../src/gen/billing/v1/entitlement';
import * as event from '../../src/gen/billing/v1/event';
import * as payment from '../../src/gen/billing/v1/payment';
import * as storefront from '../../src/gen/billing/v1/storefront';
import * as subscription from '../../src/gen/billing/v1/subscription';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { responseTypeOf, reusingWriter, takeBytes } from '../../src/grpc/response-encoding';

type Method = grpc.MethodDefinition<unknown, unknown>;

const SERVICES: [grpc.ServiceDefinition, Record<string, unknown>][] = [
  [catalog.CatalogServiceService, catalog],
  [customer.CustomerServiceService, customer],
  [entitlement.EntitlementServiceService, entitlement],
  [event.EventServiceService, event],
  [payment.PaymentServiceService, payment],
  [storefront.StorefrontServiceService, storefront],
  [subscription.SubscriptionServiceService, subscription],
];

const at = (iso: string) => new Date(iso);

const aSubscription = (id: string, quantity = 1): subscription.Subscription => ({
  ...subscription.Subscription.fromPartial({}),
  id,
  storefrontId: 'store-ü-1',
  customerId: 'cus_01JD8X9Y7Z6W5V4U3T2S1R0Q9P',
  planId: 'plan_pro',
  quantity,
  provider: 'subotiz',
  providerRef: '1234567890123456789',
  status: subscription.SubscriptionStatus.SUBSCRIPTION_STATUS_ACTIVE,
  currentPeriodStart: at('2030-01-01T00:00:00.123Z'),
  currentPeriodEnd: at('2030-02-01T00:00:00Z'),
  cancelAtPeriodEnd: true,
  version: 2n ** 40n,
  createTime: at('1969-12-31T23:59:59.999Z'),
  updateTime: at('2030-01-05T12:34:56.789Z'),
});

const anEvent = (n: number, payloadBytes = 0): event.BillingEvent => ({
  ...event.BillingEvent.fromPartial({}),
  id: `evt_${n}`,
  type: 'billing.subscription.updated',
  occurredAt: at('2030-01-05T12:34:56.789Z'),
  tenantId: 'tenant-a',
  storefrontId: 'store-1',
  aggregateId: `sub_${n}`,
  sequence: BigInt(n),
  correlationId: 'x'.repeat(payloadBytes),
  actor: 'provider:subotiz',
  subscription: aSubscription(`sub_${n}`, n),
});

/** The served (reusing) and the generated serializer of a method, by service and RPC. */
function serializers(definition: grpc.ServiceDefinition, messages: Record<string, unknown>, rpc: string) {
  const generated = definition[rpc] as Method;
  const served = reusingWriter(definition, messages)[rpc] as Method;
  return { generated: generated.responseSerialize, served: served.responseSerialize };
}

describe('responses encoded through one reused writer', () => {
  it('finds every RPC’s generated <Rpc>Response type, the one its generated serializer encodes', () => {
    for (const [definition, messages] of SERVICES) {
      for (const method of Object.values(definition) as Method[]) {
        const rpc = method.path.slice(method.path.lastIndexOf('/') + 1);
        expect({ rpc, found: responseTypeOf(method, messages) !== undefined }).toEqual({ rpc, found: true });
        expect(method.responseSerialize.toString()).toContain(`${rpc}Response.encode(`);
      }
    }
  });

  it('writes the same bytes as the generated serializer, call after call, long after short and short after long', () => {
    const read = serializers(subscription.SubscriptionServiceService, subscription, 'getSubscription');
    const list = serializers(event.EventServiceService, event, 'listEvents');
    const responses: [typeof read, unknown][] = [
      [read, { subscription: aSubscription('sub_1') }],
      [list, { events: [1, 2, 3].map((n) => anEvent(n)), nextPageToken: 'next' }],
      [read, { subscription: aSubscription('sub_2', 7) }],
      [read, { subscription: undefined }],
      [list, { events: [anEvent(4, 300)], nextPageToken: '' }],
      [read, { subscription: aSubscription('sub_3') }],
    ];
    const answers = responses.map(([s, response]) => s.served(response));
    responses.forEach(([s, response], i) => expect(answers[i]!.equals(s.generated(response))).toBe(true));
    // Each answer is its own: the writer's reuse overwrote none of the earlier ones.
    expect(subscription.GetSubscriptionResponse.decode(answers[0]!).subscription!.id).toBe('sub_1');
  });

  it('a response that does not encode fails alone: the next one is whole', () => {
    const { served, generated } = serializers(subscription.SubscriptionServiceService, subscription, 'getSubscription');
    // int32 refuses a quantity beyond 2^31 halfway through the message.
    expect(() => served({ subscription: aSubscription('sub_bad', 2 ** 40) })).toThrow();
    const next = { subscription: aSubscription('sub_next') };
    expect(served(next).equals(generated(next))).toBe(true);
  });

  it('a response larger than the kept capacity encodes whole, and so do the small ones after it', () => {
    const { served, generated } = serializers(event.EventServiceService, event, 'listEvents');
    const big = { events: Array.from({ length: 40 }, (_, i) => anEvent(i, 4000)), nextPageToken: 'p' };
    expect(served(big).length).toBeGreaterThan(64 * 1024);
    expect(served(big).equals(generated(big))).toBe(true);
    const small = { events: [anEvent(1)], nextPageToken: '' };
    expect(served(small).equals(generated(small))).toBe(true);
  });

  it('a response encoded while another is being encoded (a getter that encodes) leaves both whole', () => {
    const { served, generated } = serializers(subscription.SubscriptionServiceService, subscription, 'getSubscription');
    const inner = { subscription: aSubscription('sub_inner') };
    let innerBytes: Buffer | undefined;
    // Read after the outer subscription's id is written.
    const outer = { subscription: { ...aSubscription('sub_outer'), planId: undefined as unknown as string } };
    Object.defineProperty(outer.subscription, 'planId', {
      get: () => {
        innerBytes = served(inner);
        return 'plan_pro';
      },
    });
    expect(served(outer).equals(generated({ subscription: aSubscription('sub_outer') }))).toBe(true);
    expect(innerBytes!.equals(generated(inner))).toBe(true);
  });

  it('takes the bytes a writer holds and empties it; a writer of another shape is finished as usual', () => {
    const writer = new BinaryWriter().uint32(300).string('é');
    expect([...takeBytes(writer)]).toEqual([0xac, 0x02, 0x02, 0xc3, 0xa9]);
    expect([...takeBytes(writer.bool(true))]).toEqual([1]);
    const other = { finish: () => Uint8Array.of(7, 8) } as unknown as BinaryWriter;
    expect([...takeBytes(other)]).toEqual([7, 8]);
  });
});
