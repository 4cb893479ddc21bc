import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AzotteEmulator, startAzotteEmulator } from '../../adapters/azotte/emulator';
import { azotte } from '../../adapters/azotte';
import { createHttpTransport } from '../../adapters/kit/http-transport';
import type {
  CustomerDetails,
  PlanTerms,
  ProviderAdapter,
  ProviderCallContext,
  ProviderEvent,
  ProviderOperations,
  ProviderWebhooks,
  SubscriptionHandle,
} from '../../src/ports/provider-adapter.port';
import { emulatorControl } from '../support/emulator-control';
import { eventually } from '../support/eventually';

// The Azotte adapter (built by its module's `create`, on the kit's transport) against the real emulator over HTTP,
// no service in between: every operation, and every webhook the emulator really delivers run through verify,
// envelope and parse.

const TENANT = 'tn-adapter';
const API_KEY = 'key-adapter';
const SECRET = 'whsec-adapter';
const STOREFRONT = 'st.00.001';
const DAY = 86_400;

const plan = (ref: string, amountMinor: bigint): PlanTerms => ({
  id: `plan_${ref}`,
  name: ref,
  price: { currency: 'EUR', amountMinor },
  interval: { unit: 'MONTH', count: 1 },
  trialDays: 0,
  ref,
});
const BASIC = plan('bn.basic', 999n);
const PRO = plan('bn.pro', 1999n);

interface Delivery {
  headers: Record<string, string>;
  body: Buffer;
}

/** A tenant's webhook endpoint on node:http: keeps every delivery's headers and raw bytes, answers 200. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      deliveries.push({ headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    deliveries,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('Azotte adapter against the Azotte emulator (HTTP, no service)', () => {
  let emulator: AzotteEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ops: Required<Pick<ProviderOperations, keyof ReturnType<typeof requiredOps>>>;
  let webhooks: ProviderWebhooks;
  let ctx: ProviderCallContext;
  // The adapter's clock is the emulator's (wall time plus its offset), so a Canceled endDate is judged alike.
  let offsetMs = 0;
  let customers = 0;
  let idempotency = 0;

  const control = <T = Record<string, unknown>>(path: string, body?: unknown) =>
    emulatorControl<T>(emulator.url, path, body);
  const advance = async (seconds: number) => {
    await emulator.idle();
    await control('/clock/advance', { seconds });
    offsetMs = (await control<{ offset_seconds: number }>('/clock')).offset_seconds * 1000;
    await emulator.idle();
  };
  const call = () => ({ ...ctx, idempotencyKey: `idem-${(idempotency += 1)}` });
  const newCustomer = (): CustomerDetails => {
    customers += 1;
    return {
      id: `cus_${customers}`,
      email: `c${customers}@example.com`,
      name: 'Ada Lovelace',
      phone: '',
      country: 'DE',
    };
  };
  /** What Azotte itself says (the C2A API read directly, not through the adapter). */
  const azotteSays = async (path: string) => {
    const response = await fetch(`${emulator.url}/api/v1/c2a${path}`, {
      headers: { 'x-api-key': API_KEY, 'x-tn': TENANT, accept: 'application/json' },
    });
    return (await response.json()) as { result: Record<string, unknown> };
  };

  /** A customer with a completed checkout on `card` (Visa by default): our handle of the subscription. */
  const subscribe = async (card = 'pm.test.visa', terms = BASIC): Promise<SubscriptionHandle> => {
    const customer = newCustomer();
    const customerRef = await ops.ensureCustomer(call(), customer);
    const orderId = `sub_${customers}`;
    const checkout = await ops.createCheckout(call(), {
      orderId,
      mode: 'subscription',
      uiMode: 'hosted',
      customer: { ...customer, providerRef: customerRef },
      plan: terms,
      quantity: 1,
      paymentMethodRef: card,
    });
    expect(checkout).toMatchObject({ status: 'PROCESSING', orderId });
    const done = await eventually(
      () => ops.getCheckout(call(), checkout.sessionRef),
      (c) => c.status !== 'PROCESSING',
    );
    expect(done).toMatchObject({ status: 'COMPLETE', orderId });
    return { id: orderId, customerRef, providerRef: done.subscriptionRef, planRef: terms.ref };
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    emulator = await startAzotteEmulator({ processingDelaySeconds: 0 });
    await control('/tenants', {
      tenant: TENANT,
      api_key: API_KEY,
      webhook_url: receiver.url,
      webhook_secrets: [SECRET],
      test_cards: true,
    });
    await control('/catalog', {
      storefronts: [{ storefront_urn: STOREFRONT, currency: 'EUR' }],
      bundles: [
        ['bn.basic', 999, ['basic']],
        ['bn.pro', 1999, ['basic', 'pro']],
      ].map(([urn, amount, entitlements]) => ({
        storefront_urn: STOREFRONT,
        bundle_urn: urn,
        sku: urn,
        name: urn,
        amount_milpieces: amount,
        currency: 'EUR',
        period: { unit: 'Month', count: 1 },
        trial_days: 0,
        entitlements,
      })),
    });
    const adapter: ProviderAdapter = azotte.create!({
      clock: { now: () => new Date(Date.now() + offsetMs) },
      logger: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
      http: createHttpTransport({ backoffMs: [20] }),
    });
    ops = requiredOps(adapter);
    webhooks = adapter.webhooks!;
    ctx = {
      storefrontId: 'sf_azotte',
      config: { base_url: emulator.url, tenant: TENANT, storefront_urn: STOREFRONT },
      secrets: { api_key: API_KEY, webhook_secret: SECRET },
      signal: new AbortController().signal,
      idempotencyKey: 'idem-0',
      webhookUrl: receiver.url,
    };
  });
  afterAll(async () => {
    await emulator?.stop();
    await receiver?.close();
  });

  // First: the clock advances renew every live subscription, and charges/fail-next must meet this one's renewal.
  it('every delivery of checkout → renewal → failed renewal → recovery → cancel verifies and parses', async () => {
    const handle = await subscribe();
    await advance(31 * DAY);
    await control('/charges/fail-next', { count: 1, code: 'CARD_DECLINED', message: 'declined' });
    await advance(31 * DAY);
    await advance(DAY + 60);
    await ops.cancelSubscription(call(), handle, { atPeriodEnd: false, reason: 'done' });
    await emulator.idle();

    const mine = () =>
      receiver.deliveries.filter(
        (d) =>
          (JSON.parse(d.body.toString('utf8')) as { data: { customerUrn: string } }).data.customerUrn ===
          handle.customerRef,
      );
    const types = () => mine().map((d) => (JSON.parse(d.body.toString('utf8')) as { type: string }).type);
    await eventually(
      () => Promise.resolve(types()),
      (t) => t.includes('subscription.canceled') && t.includes('entitlement.revoked'),
    );

    const parsed: { type: string; events: ProviderEvent[] }[] = [];
    for (const [index, delivery] of mine().entries()) {
      const verdict = webhooks.verify(
        { ...delivery, remoteAddress: '127.0.0.1' },
        { secrets: { current: SECRET }, config: ctx.config },
        new Date(),
      );
      expect(verdict).toEqual({ ok: true });
      const envelope = webhooks.envelope(delivery);
      expect(envelope).toMatchObject({ orderingKey: handle.customerRef, sequence: String(index + 1) });
      parsed.push({ type: envelope.eventType, events: webhooks.parse(delivery) });
    }
    const kinds = (e: ProviderEvent) =>
      e.kind === 'subscription'
        ? `subscription:${e.hint}`
        : e.kind === 'payment' || e.kind === 'invoice'
          ? `${e.kind}:${e.outcome}`
          : e.kind === 'entitlement'
            ? `entitlement:${e.action}`
            : e.kind;
    expect(parsed.map((p) => [p.type, p.events.map(kinds)])).toEqual([
      ['subscription.created', ['subscription:activated']],
      ['payment.captured', ['payment:succeeded', 'invoice:paid']],
      ['entitlement.granted', ['entitlement:granted']],
      ['audit.state_changed', ['audit']],
      // renewal
      ['payment.captured', ['payment:succeeded', 'invoice:paid']],
      ['subscription.renewed', ['subscription:updated']],
      // failed renewal
      ['payment.failed', ['payment:failed', 'invoice:payment_failed', 'subscription:past_due']],
      ['audit.state_changed', ['audit']],
      // recovery
      ['payment.recovered', ['payment:succeeded', 'invoice:paid']],
      ['subscription.renewed', ['subscription:updated']],
      ['audit.state_changed', ['audit']],
      // immediate cancel
      ['subscription.canceled', ['subscription:canceled']],
      ['entitlement.revoked', ['entitlement:revoked']],
      ['audit.state_changed', ['audit']],
    ]);

    const invoices = parsed.flatMap((p) => p.events).flatMap((e) => (e.kind === 'invoice' ? [e.invoice] : []));
    const payments = parsed.flatMap((p) => p.events).flatMap((e) => (e.kind === 'payment' ? [e.payment] : []));
    expect(invoices.map((i) => [i.type, i.status])).toEqual([
      ['INITIAL', 'PAID'],
      ['RENEWAL', 'PAID'],
      ['RENEWAL', 'FAILED'],
      ['RENEWAL', 'PAID'],
    ]);
    for (const [i, invoice] of invoices.entries()) {
      expect(invoice).toMatchObject({
        subscriptionRef: handle.providerRef,
        paymentRef: payments[i]!.ref,
        amount: { currency: 'EUR', amountMinor: 999n },
      });
      expect(payments[i]!.invoiceRef).toBe(invoice.ref);
      expect(invoice.periodEnd!.getTime()).toBeGreaterThan(invoice.periodStart!.getTime());
    }
    expect(invoices[0]!.orderId).toBe(handle.id);
    // The failed attempt and the recovery pay one cycle: one invoice, failed then paid.
    expect(invoices[3]!.ref).toBe(invoices[2]!.ref);
    expect(invoices[3]!.cycleIndex).toBe(invoices[2]!.cycleIndex);
    expect(invoices[1]!.ref).not.toBe(invoices[2]!.ref);
    // Periods numbered as the other providers number them: the checkout's charge pays cycle 1, each renewal the next.
    expect(invoices.map((i) => i.cycleIndex)).toEqual([1, 2, 3, 3]);
    expect(invoices.map((i) => i.ref)).toEqual([1, 2, 3, 3].map((n) => `inv:${handle.providerRef}:${n}`));
    const pastDue = parsed[6]!.events[2]!;
    expect(pastDue).toMatchObject({ kind: 'subscription', subscription: { status: 'PAST_DUE' } });
  });

  it('ensureCustomer stores once: a store whose answer was lost and is retried, and a repeat, give one urn', async () => {
    const customer = newCustomer();
    // The store happens at Azotte, its answer is lost; the transport's retry meets CUSTOMER_ALREADY_STORED.
    await control('/faults', { count: 1, status: 503, after: true, path: '/customer/store' });
    const urn = await ops.ensureCustomer(call(), customer);
    expect(urn).toMatch(/^cu\.00\.\d+$/);
    expect(await ops.ensureCustomer(call(), customer)).toBe(urn);
    const stored = await azotteSays(`/customer/info?urn=${urn}`);
    expect(stored.result).toMatchObject({ externalIdentifier: customer.id, firstName: 'Ada', lastName: 'Lovelace' });
    expect(stored.result.claimedRegion).toMatchObject({ countryCode: 'DE', languageCode: 'en' });

    await ops.updateCustomer(call(), {
      ...customer,
      providerRef: urn,
      name: 'Grace Brewster Hopper',
      email: 'grace@example.com',
    });
    expect((await azotteSays(`/customer/info?urn=${urn}`)).result).toMatchObject({
      customerUrn: urn,
      email: 'grace@example.com',
      firstName: 'Grace Brewster',
      lastName: 'Hopper',
    });
  });

  it('checkout completes on polling; getSubscription finds it by correlationId before a ref, then by ref', async () => {
    const handle = await subscribe();
    expect(handle.providerRef).toMatch(/^or_/);
    const byOrder = await ops.getSubscription(call(), { ...handle, providerRef: undefined });
    expect(byOrder).toMatchObject({
      ref: handle.providerRef,
      status: 'ACTIVE',
      orderId: handle.id,
      planRef: 'bn.basic',
      customerRef: handle.customerRef,
      paymentMethodRef: 'pm.test.visa',
      cancelAtPeriodEnd: false,
    });
    expect(byOrder!.currentPeriodEnd!.getTime()).toBeGreaterThan(byOrder!.currentPeriodStart!.getTime());
    expect(await ops.getSubscription(call(), handle)).toMatchObject({ ref: handle.providerRef, status: 'ACTIVE' });
    expect(await ops.getSubscription(call(), { ...handle, id: 'sub_unknown', providerRef: undefined })).toBeUndefined();
  });

  it('3-D Secure: ACTION_REQUIRED with a redirect, passed on the page → COMPLETE; a declined card → FAILED', async () => {
    const customer = newCustomer();
    const customerRef = await ops.ensureCustomer(call(), customer);
    const order = (orderId: string, card: string) =>
      ops.createCheckout(call(), {
        orderId,
        mode: 'subscription',
        uiMode: 'hosted',
        customer: { ...customer, providerRef: customerRef },
        plan: BASIC,
        quantity: 1,
        paymentMethodRef: card,
      });
    const secure = await order(`sub_3ds_${customers}`, 'pm.test.visa_3ds');
    const challenged = await eventually(
      () => ops.getCheckout(call(), secure.sessionRef),
      (c) => c.status !== 'PROCESSING',
    );
    expect(challenged.status).toBe('ACTION_REQUIRED');
    expect(challenged.checkAt).toBeDefined();
    const redirectUrl = (challenged.nextAction as { redirectUrl: string }).redirectUrl;
    expect(redirectUrl).toMatch(new RegExp(`^${emulator.url}/3ds/3ds_`));
    const passed = await fetch(redirectUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=pass',
    });
    expect(passed.status).toBe(200);
    const complete = await ops.getCheckout(call(), secure.sessionRef);
    expect(complete).toMatchObject({ status: 'COMPLETE', orderId: `sub_3ds_${customers}` });
    expect(complete.subscriptionRef).toMatch(/^or_/);

    const declined = await order(`sub_declined_${customers}`, 'pm.test.declined');
    const failed = await eventually(
      () => ops.getCheckout(call(), declined.sessionRef),
      (c) => c.status !== 'PROCESSING',
    );
    expect(failed).toMatchObject({ status: 'FAILED', failure: { code: 'CARD_DECLINED' } });
  });

  it('cancels at period end, revokes it, then cancels immediately', async () => {
    const handle = await subscribe();
    const scheduled = await ops.cancelSubscription(call(), handle, { atPeriodEnd: true, reason: 'too dear' });
    expect(scheduled).toMatchObject({ kind: 'applied', state: { status: 'ACTIVE', cancelAtPeriodEnd: true } });
    const atAzotte = await control<Record<string, unknown>>(`/subscriptions/${handle.providerRef}`);
    expect(atAzotte).toMatchObject({ state: 'Canceled', cancelationMethod: 'EndOfPeriod' });
    // A retry of the same cancel is answered from the state, not refused.
    expect(await ops.cancelSubscription(call(), handle, { atPeriodEnd: true, reason: 'again' })).toMatchObject({
      kind: 'applied',
      state: { cancelAtPeriodEnd: true },
    });

    const revoked = await ops.revokeCancellation(call(), handle);
    expect(revoked).toMatchObject({ kind: 'applied', state: { status: 'ACTIVE', cancelAtPeriodEnd: false } });
    expect(await control(`/subscriptions/${handle.providerRef}`)).toMatchObject({
      state: 'Reactivated',
      cancelationMethod: null,
    });

    const ended = await ops.cancelSubscription(call(), handle, { atPeriodEnd: false, reason: 'bye' });
    expect(ended).toMatchObject({ kind: 'applied', state: { status: 'CANCELED', cancelAtPeriodEnd: false } });
    expect(ended.kind === 'applied' && ended.state.endedAt).toBeInstanceOf(Date);
    expect(await control(`/subscriptions/${handle.providerRef}`)).toMatchObject({
      state: 'Canceled',
      cancelationMethod: 'Immediate',
    });
  });

  it('changePlan is accepted; the old ref then reads as the new orderIdentifier with previousRef', async () => {
    const handle = await subscribe();
    const outcome = await ops.changePlan(call(), handle, { plan: PRO, quantity: 1 });
    expect(outcome.kind).toBe('accepted');
    const moved = await eventually(
      () => ops.getSubscription(call(), handle),
      (s) => s?.ref !== handle.providerRef,
    );
    expect(moved).toMatchObject({
      status: 'ACTIVE',
      planRef: 'bn.pro',
      previousRef: handle.providerRef,
      orderId: handle.id,
    });
    expect(moved!.ref).toMatch(/^or_/);
    expect(await control(`/subscriptions/${handle.providerRef}`)).toMatchObject({
      state: 'Canceled',
      replacedByOrderIdentifier: moved!.ref,
    });
    // Its webhooks: the new subscription's plan change, nothing for the old one's end, the charge as an UPGRADE.
    await emulator.idle();
    const delivered = () =>
      receiver.deliveries.filter(
        (d) =>
          (JSON.parse(d.body.toString('utf8')) as { data: { customerUrn: string } }).data.customerUrn ===
          handle.customerRef,
      );
    const replaced = await eventually(
      () => Promise.resolve(delivered().flatMap((d) => webhooks.parse(d))),
      (events) => events.some((e) => e.kind === 'invoice' && e.invoice.type === 'UPGRADE'),
    );
    const upgrade = replaced.find((e) => e.kind === 'subscription' && e.hint === 'plan_changed');
    expect(upgrade).toMatchObject({ subscription: { ref: moved!.ref, previousRef: handle.providerRef } });
    expect(replaced.filter((e) => e.kind === 'subscription' && e.subscription.ref === handle.providerRef)).toEqual([
      expect.objectContaining({ hint: 'activated' }),
    ]);
    expect(replaced.find((e) => e.kind === 'invoice' && e.invoice.type === 'UPGRADE')).toMatchObject({
      outcome: 'paid',
      invoice: {
        subscriptionRef: moved!.ref,
        orderId: handle.id,
        amount: { amountMinor: 1999n },
        // The lineage keeps counting: the Replace charge pays the period after the one the checkout paid.
        cycleIndex: 2,
        ref: `inv:${moved!.ref}:2`,
      },
    });
  });
});

function requiredOps(adapter: ProviderAdapter) {
  const o = adapter.operations;
  return {
    ensureCustomer: o.ensureCustomer!,
    updateCustomer: o.updateCustomer!,
    createCheckout: o.createCheckout!,
    getCheckout: o.getCheckout!,
    getSubscription: o.getSubscription!,
    cancelSubscription: o.cancelSubscription!,
    revokeCancellation: o.revokeCancellation!,
    changePlan: o.changePlan!,
  };
}
