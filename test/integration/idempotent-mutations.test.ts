import * as grpc from '@grpc/grpc-js';
import { catalogHandlers } from '../../src/grpc/handlers/catalog-handlers';
import { customerHandlers } from '../../src/grpc/handlers/customer-handlers';
import { entitlementHandlers } from '../../src/grpc/handlers/entitlement-handlers';
import { eventHandlers } from '../../src/grpc/handlers/event-handlers';
import { paymentHandlers } from '../../src/grpc/handlers/payment-handlers';
import { storefrontHandlers } from '../../src/grpc/handlers/storefront-handlers';
import { subscriptionHandlers } from '../../src/grpc/handlers/subscription-handlers';
import { PaymentStatus } from '../../src/gen/billing/v1/payment';
import { SubscriptionStatus } from '../../src/gen/billing/v1/subscription';
import { eventually } from '../support/eventually';
import { sampleAzotteBinding, storefrontRequest } from '../support/fixtures';
import { FAST_WEBHOOKS, subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/** Every mutating RPC, as the handlers declare them (a new mutation shows up here without editing the test). */
function mutatingRpcs(): string[] {
  const none = {} as never;
  const all = {
    ...storefrontHandlers(none),
    ...catalogHandlers(none),
    ...customerHandlers(none),
    ...subscriptionHandlers(none),
    ...paymentHandlers(none),
    ...entitlementHandlers(none),
    ...eventHandlers(none, none),
  };
  return Object.entries(all)
    .filter(([, handler]) => handler.kind === 'mutation')
    .map(([name]) => name)
    .sort();
}

/** How a mutation ends: its change and response in one transaction, no change at all, or refused by the provider. */
type Outcome = 'commits' | 'commits nothing' | 'UNIMPLEMENTED';

/**
 * Each mutating RPC, called with an idempotency key, stores its response in the very transaction that wrote its change
 * (and its audit row): PostgreSQL's transaction ids, recorded by triggers, say so.
 */
describe('every mutating RPC stores its response with its change', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  const sql = (text: string, values: unknown[] = []) => withClient(db.url, (c) => c.query(text, values));

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, ...FAST_WEBHOOKS });
    world = await subotizWorld(service, { storefrontId: 'mut-store' });
    // Witnesses: the transaction that stored each response, and the transactions that wrote audit rows per call.
    await sql(`
      CREATE TABLE tx_witness (kind text NOT NULL, call text NOT NULL, txid bigint NOT NULL);
      CREATE FUNCTION witness_response() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO tx_witness VALUES ('response', NEW.key, txid_current()); RETURN NEW; END $$;
      CREATE TRIGGER witness_response AFTER UPDATE ON idempotency_keys FOR EACH ROW
        WHEN (NEW.state = 'DONE' AND OLD.state <> 'DONE') EXECUTE FUNCTION witness_response();
      -- A call that claims its key at commit (CreateCustomer) inserts it done, with the response.
      CREATE TRIGGER witness_claimed_response AFTER INSERT ON idempotency_keys FOR EACH ROW
        WHEN (NEW.state = 'DONE') EXECUTE FUNCTION witness_response();
      CREATE FUNCTION witness_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO tx_witness VALUES ('audit', NEW.correlation_id, txid_current()); RETURN NEW; END $$;
      CREATE TRIGGER witness_audit AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION witness_audit();`);
  });

  afterAll(async () => {
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  it('covers each one: the response commits in the transaction of the change', async () => {
    const s = service.clients;
    const subs = s.subscriptions;
    const pay = world.payments;
    const active = await world.activeSubscription();
    const paused = await world.activeSubscription();
    await world.control(`/subscriptions/${paused.ref}/pause`, {});
    await eventually(
      () => world.subscription(paused.id),
      (sub) => sub.status === SubscriptionStatus.SUBSCRIPTION_STATUS_PAUSED,
    );
    const payment = (
      await eventually(
        () => world.paymentsOf(active.id),
        (list) => list.some((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED),
      )
    ).find((p) => p.status === PaymentStatus.PAYMENT_STATUS_SUCCEEDED)!;
    const inbox = await sql(
      `INSERT INTO webhook_inbox (provider, storefront_id, provider_event_id, body, status, received_at)
       VALUES ('subotiz', 'mut-store', 'evt-dead', '\\x7b7d', 'DEAD', now()) RETURNING id`,
    );
    await sql(
      `INSERT INTO dead_letters (id, inbox_id, provider, storefront_id, provider_event_id, error, attempts,
         received_at, last_attempt_at) VALUES ('dlq_mut', $1, 'subotiz', 'mut-store', 'evt-dead', 'x', 3, now(), now())`,
      [inbox.rows[0].id],
    );
    const plan = { storefrontId: 'mut-store', name: 'Extra', trialDays: 0, featureKeys: [], providerRefs: {} };
    const { plan: extra } = await call(s.catalog, s.catalog.createPlan, {
      ...plan,
      price: { currencyCode: 'EUR', amountMinor: 500n, amountDecimal: '' },
      interval: { unit: 3, count: 1 },
    });

    // Each fixture sends one mutation with the metadata it is given, in an order that lets each have its object.
    const fixtures: Record<string, [Outcome, (md: Record<string, string>) => Promise<unknown>]> = {
      createStorefront: [
        'commits',
        (md) => call(s.storefronts, s.storefronts.createStorefront, storefrontRequest('mut-other'), md),
      ],
      updateStorefront: [
        'commits',
        (md) =>
          call(
            s.storefronts,
            s.storefronts.updateStorefront,
            {
              storefrontId: 'mut-other',
              name: 'Renamed',
              country: undefined,
              defaultCurrency: undefined,
              replaceProviderConfig: false,
              providerConfig: {},
              replaceSecretRefs: false,
              secretRefs: {},
              expectedVersion: 0n,
            },
            md,
          ),
      ],
      switchProvider: [
        'commits',
        (md) =>
          call(
            s.storefronts,
            s.storefronts.switchProvider,
            {
              storefrontId: 'mut-other',
              ...sampleAzotteBinding(),
              reason: 'test',
            },
            md,
          ),
      ],
      createPlan: [
        'commits',
        (md) =>
          call(
            s.catalog,
            s.catalog.createPlan,
            {
              ...plan,
              price: { currencyCode: 'EUR', amountMinor: 100n, amountDecimal: '' },
              interval: { unit: 3, count: 1 },
            },
            md,
          ),
      ],
      setPlanProviderReference: [
        'commits',
        (md) =>
          call(
            s.catalog,
            s.catalog.setPlanProviderReference,
            { planId: extra!.id, provider: 'subotiz', reference: 'price_x' },
            md,
          ),
      ],
      archivePlan: ['commits', (md) => call(s.catalog, s.catalog.archivePlan, { planId: extra!.id }, md)],
      createCustomer: [
        'commits',
        (md) =>
          call(
            s.customers,
            s.customers.createCustomer,
            {
              storefrontId: 'mut-store',
              externalRef: '',
              email: 'mut@example.com',
              name: '',
              phone: '',
              country: '',
              address: undefined,
            },
            md,
          ),
      ],
      updateCustomer: [
        'commits',
        (md) =>
          call(
            s.customers,
            s.customers.updateCustomer,
            {
              customerId: world.customerId,
              externalRef: undefined,
              email: undefined,
              name: 'Ada L.',
              phone: undefined,
              country: undefined,
              address: undefined,
            },
            md,
          ),
      ],
      createCheckoutSession: ['commits', (md) => call(subs, subs.createCheckoutSession, world.checkoutRequest(), md)],
      recordUsage: [
        'commits',
        (md) => call(subs, subs.recordUsage, { subscriptionId: active.id, quantity: 3n, timestamp: undefined }, md),
      ],
      cancelSubscription: [
        'commits',
        (md) =>
          call(subs, subs.cancelSubscription, { subscriptionId: active.id, atPeriodEnd: true, reason: 'test' }, md),
      ],
      revokeCancellation: ['commits', (md) => call(subs, subs.revokeCancellation, { subscriptionId: active.id }, md)],
      resumeSubscription: ['commits', (md) => call(subs, subs.resumeSubscription, { subscriptionId: paused.id }, md)],
      pauseSubscription: [
        'UNIMPLEMENTED',
        (md) => call(subs, subs.pauseSubscription, { subscriptionId: active.id, resumeTime: undefined }, md),
      ],
      changePlan: [
        'UNIMPLEMENTED',
        (md) => call(subs, subs.changePlan, { subscriptionId: active.id, planId: world.planId }, md),
      ],
      updateQuantity: [
        'UNIMPLEMENTED',
        (md) => call(subs, subs.updateQuantity, { subscriptionId: active.id, quantity: 2 }, md),
      ],
      createPortalSession: [
        'commits nothing',
        (md) => call(subs, subs.createPortalSession, { customerId: world.customerId, returnUrl: '' }, md),
      ],
      createRefund: [
        'commits',
        (md) => call(pay, pay.createRefund, { paymentId: payment.id, amount: undefined, reason: 'test' }, md),
      ],
      replayEvents: [
        'commits',
        (md) =>
          call(
            s.events,
            s.events.replayEvents,
            { storefrontId: '', aggregateId: active.id, types: [], since: undefined, until: undefined },
            md,
          ),
      ],
      retryDeadLetter: ['commits', (md) => call(s.events, s.events.retryDeadLetter, { deadLetterId: 'dlq_mut' }, md)],
    };
    expect(Object.keys(fixtures).sort()).toEqual(mutatingRpcs());

    // Subotiz's webhooks about these very changes would race the calls to apply them first (then the call's own
    // transaction has nothing left to change or audit); the witness is about the call's transaction, so they go.
    await world.control('/webhooks/faults', { mode: 'drop', count: 1000 });
    const seen: Record<string, string> = {};
    for (const [rpc, [outcome, send]] of Object.entries(fixtures)) {
      const key = `mut-${rpc}`;
      const md = { 'idempotency-key': key, 'x-correlation-id': key };
      if (outcome === 'UNIMPLEMENTED') {
        seen[rpc] = await send(md).then(
          () => 'OK',
          (error: grpc.ServiceError) => grpc.status[error.code],
        );
        continue;
      }
      await send(md);
      const witnesses = await sql('SELECT kind, txid FROM tx_witness WHERE call = $1', [key]);
      const response = witnesses.rows.filter((w) => w.kind === 'response').map((w) => String(w.txid));
      const audited = witnesses.rows.filter((w) => w.kind === 'audit').map((w) => String(w.txid));
      if (outcome === 'commits nothing') seen[rpc] = audited.length === 0 ? 'commits nothing' : 'committed a change';
      else seen[rpc] = response.length === 1 && audited.includes(response[0]!) ? 'commits' : 'response stored apart';
    }
    expect(seen).toEqual(Object.fromEntries(Object.entries(fixtures).map(([rpc, [outcome]]) => [rpc, outcome])));
  });
});
