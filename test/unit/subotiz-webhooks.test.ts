import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subotizWebhooks } from '../../adapters/subotiz/webhooks';
import { DomainError } from '../../src/domain/errors';
import type { ReceivedWebhook, WebhookSecrets } from '../../src/ports/provider-adapter.port';

// The fixtures are the seed document's webhook examples as printed there (same lines, keys and values), indented by
// Prettier; the signature covers the file's bytes exactly as read.
const fixture = (type: string): Buffer => readFileSync(join(__dirname, '..', 'fixtures', 'subotiz', `${type}.json`));

const SECRET = 'whsec_test_current';
const PREVIOUS = 'whsec_test_previous';
const NOW = new Date('2025-10-28T07:00:00Z');

/** Signs the way the seed's Python example verifies: HMAC-SHA256(secret, f"{timestamp}.".encode() + body). */
function signed(body: Buffer, secret = SECRET, timestampMs = NOW.getTime()): ReceivedWebhook {
  const timestamp = String(timestampMs);
  const message = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), body]);
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(message).digest('hex');
  return {
    headers: {
      'x-timestamp': timestamp,
      'x-signature': signature,
      'x-access-no': '77d52a21dc032b4',
      'content-type': 'application/json',
    },
    body,
    remoteAddress: '203.0.113.10',
  };
}

/** The storefront's secrets and binding config, as verification receives them. */
const keys = (secrets: WebhookSecrets, config: Record<string, string> = {}) => ({ secrets, config });

const withType = (body: Buffer, type: string): Buffer => {
  const event = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...event, type }));
};

const EXAMPLES = [
  'v2.trades.succeeded',
  'v2.subscription.first',
  'v2.subscription.canceled',
  'v2.invoice.paid',
  'v2.refunds.succeeded',
];

describe('Subotiz webhook signature', () => {
  it.each(EXAMPLES)('accepts the seed example %s signed with the current secret', (type) => {
    expect(subotizWebhooks.verify(signed(fixture(type)), keys({ current: SECRET }), NOW)).toEqual({ ok: true });
  });

  it('accepts the compact form of a body (the signature covers whatever bytes arrived)', () => {
    const compact = Buffer.from(JSON.stringify(JSON.parse(fixture('v2.invoice.paid').toString('utf8'))));
    expect(subotizWebhooks.verify(signed(compact), keys({ current: SECRET }), NOW)).toEqual({ ok: true });
  });

  it('refuses a body changed after signing', () => {
    const webhook = signed(fixture('v2.trades.succeeded'));
    const tampered = Buffer.from(webhook.body.toString('utf8').replace('"30.00"', '"3000.00"'));
    const verdict = subotizWebhooks.verify({ ...webhook, body: tampered }, keys({ current: SECRET }), NOW);
    expect(verdict.ok).toBe(false);
  });

  it('refuses a signature made with another secret, without revealing either', () => {
    const webhook = signed(fixture('v2.trades.succeeded'), 'someone-else');
    const verdict = subotizWebhooks.verify(webhook, keys({ current: SECRET }), NOW);
    expect(verdict.ok).toBe(false);
    const expected = signed(fixture('v2.trades.succeeded')).headers['x-signature']!;
    const reason = verdict.ok ? '' : verdict.reason;
    expect(reason).not.toContain(SECRET);
    expect(reason).not.toContain(expected);
  });

  it('refuses a timestamp 301 s old and one 301 s ahead, accepts one 300 s old', () => {
    const body = fixture('v2.subscription.first');
    const at = (offsetMs: number) =>
      subotizWebhooks.verify(signed(body, SECRET, NOW.getTime() + offsetMs), keys({ current: SECRET }), NOW);
    expect(at(-301_000)).toEqual({ ok: false, reason: expect.stringContaining('301 s') });
    expect(at(301_000).ok).toBe(false);
    expect(at(-300_000)).toEqual({ ok: true });
  });

  it('honours the storefront’s webhook_tolerance_seconds, and falls back to 300 s for a value outside 30..3600', () => {
    const body = fixture('v2.subscription.first');
    const at = (offsetMs: number, config: Record<string, string>) =>
      subotizWebhooks.verify(signed(body, SECRET, NOW.getTime() + offsetMs), keys({ current: SECRET }, config), NOW);
    expect(at(-900_000, { webhook_tolerance_seconds: '900' })).toEqual({ ok: true });
    expect(at(-901_000, { webhook_tolerance_seconds: '900' })).toEqual({
      ok: false,
      reason: expect.stringContaining('tolerance 900 s'),
    });
    expect(at(-31_000, { webhook_tolerance_seconds: '30' }).ok).toBe(false);
    for (const stored of ['0', '5', '99999', '-1', '1e3', 'soon']) {
      expect(at(-300_000, { webhook_tolerance_seconds: stored })).toEqual({ ok: true });
      expect(at(-301_000, { webhook_tolerance_seconds: stored }).ok).toBe(false);
    }
  });

  it('accepts the previous secret during a rotation, and only then', () => {
    const webhook = signed(fixture('v2.refunds.succeeded'), PREVIOUS);
    expect(subotizWebhooks.verify(webhook, keys({ current: SECRET, previous: PREVIOUS }), NOW)).toEqual({ ok: true });
    expect(subotizWebhooks.verify(webhook, keys({ current: SECRET }), NOW).ok).toBe(false);
  });

  it.each([
    ['no X-Timestamp', { 'x-timestamp': '' }, 'missing X-Timestamp'],
    ['no X-Signature', { 'x-signature': '' }, 'missing X-Signature'],
    ['a non-numeric timestamp', { 'x-timestamp': '2025-10-28T07:00:00Z' }, 'not a timestamp in milliseconds'],
    ['a signature that is not hex', { 'x-signature': 'sha256=abc' }, 'not a hex HMAC-SHA256'],
  ])('refuses %s, saying so', (_, override, reason) => {
    const webhook = signed(fixture('v2.trades.succeeded'));
    const headers: Record<string, string> = { ...webhook.headers, ...override };
    for (const [key, value] of Object.entries(headers)) if (!value) delete headers[key];
    const verdict = subotizWebhooks.verify({ ...webhook, headers }, keys({ current: SECRET }), NOW);
    expect(verdict.ok).toBe(false);
    // Each guard is reached on its own: without it the request would fail later, for another reason.
    expect(verdict).toEqual({ ok: false, reason: expect.stringContaining(reason) });
  });

  it('refuses everything when the storefront has no webhook secret', () => {
    const webhook = signed(fixture('v2.trades.succeeded'), '');
    expect(subotizWebhooks.verify(webhook, keys({ current: '' }), NOW).ok).toBe(false);
  });
});

describe('Subotiz webhook envelope', () => {
  it.each([
    ['v2.trades.succeeded', '572677246926464036'],
    ['v2.subscription.first', '572677252513276964'],
    ['v2.subscription.canceled', '572682701203579940'],
    ['v2.invoice.paid', '583564654786128554'],
    ['v2.refunds.succeeded', '572683623191290916'],
  ])('reads id and type of %s', (type, id) => {
    expect(subotizWebhooks.envelope(signed(fixture(type)))).toEqual({ providerEventId: id, eventType: type });
  });

  it('keeps an int64 id sent as a JSON number exact', () => {
    const body = Buffer.from(
      fixture('v2.trades.succeeded').toString('utf8').replace('"id": "572677246926464036"', '"id": 572677246926464036'),
    );
    expect(body.toString('utf8')).toContain('"id": 572677246926464036,');
    expect(subotizWebhooks.envelope(signed(body)).providerEventId).toBe('572677246926464036');
    expect(subotizWebhooks.parse(signed(body))[0]?.providerEventId).toBe('572677246926464036');
  });

  it('refuses a body that is not an event', () => {
    expect(() => subotizWebhooks.envelope(signed(Buffer.from('not json')))).toThrow(DomainError);
    expect(() => subotizWebhooks.envelope(signed(Buffer.from('{"type":"v2.trades.succeeded"}')))).toThrow(/id/);
  });
});

describe('Subotiz webhook normalization', () => {
  const parse = (body: Buffer) => subotizWebhooks.parse(signed(body));

  it('v2.trades.succeeded is a succeeded initial payment of 30.00 USD', () => {
    expect(parse(fixture('v2.trades.succeeded'))).toEqual([
      {
        providerEventId: '572677246926464036',
        providerType: 'v2.trades.succeeded',
        occurredAt: new Date('2025-10-28T06:54:55Z'),
        kind: 'payment',
        outcome: 'succeeded',
        payment: {
          ref: '572677233903157186',
          orderId: 'order_1761634475936438746',
          customerRef: '547766341013094363',
          subscriptionRef: undefined,
          invoiceRef: '547766341013094363',
          kind: 'initial',
          amount: { currency: 'USD', amountMinor: 3000n },
          status: 'SUCCEEDED',
          refundState: 'NONE',
          refundedAmount: { currency: 'USD', amountMinor: 0n },
          failure: undefined,
          paidAt: new Date('2025-10-28T06:54:55Z'),
          // Flow 4: the saved card renewals charge.
          paymentMethodRef: 'pB_KO6Q***YU',
        },
      },
    ]);
  });

  it('v2.subscription.first activates an ACTIVE subscription observed at its updated_at', () => {
    expect(parse(fixture('v2.subscription.first'))).toEqual([
      {
        providerEventId: '572677252513276964',
        providerType: 'v2.subscription.first',
        occurredAt: new Date('2025-10-28T06:54:56Z'),
        kind: 'subscription',
        hint: 'activated',
        subscription: {
          ref: '572677251968024511',
          orderId: 'order_1761634475936438746',
          customerRef: '547766341013094363',
          planRef: '572349501902208959',
          status: 'ACTIVE',
          currentPeriodStart: new Date('2025-10-28T06:54:00Z'),
          currentPeriodEnd: new Date('2025-10-28T07:25:00Z'),
          trialEnd: undefined,
          cancelAtPeriodEnd: false,
          canceledAt: undefined,
          endedAt: undefined,
          cycleIndex: 1,
          observedAt: new Date('2025-10-28T06:54:56Z'),
        },
      },
    ]);
  });

  it('v2.subscription.canceled is CANCELED at cancel_at, observed at the event time when updated_at is absent', () => {
    const [event] = parse(fixture('v2.subscription.canceled'));
    expect(event).toMatchObject({
      providerEventId: '572682701203579940',
      kind: 'subscription',
      hint: 'canceled',
      subscription: {
        ref: '572677251968024511',
        status: 'CANCELED',
        planRef: '572349625697058751',
        cancelAtPeriodEnd: false,
        canceledAt: new Date('2025-10-28T07:16:00Z'),
        endedAt: new Date('2025-10-28T07:16:00Z'),
        observedAt: new Date('2025-10-28T07:16:35Z'),
      },
    });
  });

  it('v2.subscription.canceled after the last of a fixed number of cycles is COMPLETED', () => {
    const event = JSON.parse(fixture('v2.subscription.canceled').toString('utf8')) as { data: Record<string, unknown> };
    event.data = { ...event.data, total_cycles: '3', cycle_index: 3 };
    const [parsed] = parse(Buffer.from(JSON.stringify(event)));
    expect(parsed).toMatchObject({ hint: 'canceled', subscription: { status: 'COMPLETED', cycleIndex: 3 } });
  });

  it('v2.invoice.paid is a PAID initial invoice of "10" USD = 1000 minor units', () => {
    expect(parse(fixture('v2.invoice.paid'))).toEqual([
      {
        providerEventId: '583564654786128554',
        providerType: 'v2.invoice.paid',
        occurredAt: new Date('2025-11-27T07:57:35Z'),
        kind: 'invoice',
        outcome: 'paid',
        invoice: {
          ref: '583564651824957126',
          subscriptionRef: '583564651824940742',
          orderId: 'order_1764230244388418776',
          customerRef: '537465921338359803',
          paymentRef: '583564647529987790',
          amount: { currency: 'USD', amountMinor: 1000n },
          type: 'INITIAL',
          status: 'PAID',
          cycleIndex: 1,
          periodStart: new Date('2025-11-27T07:57:00Z'),
          periodEnd: new Date('2025-11-27T13:07:00Z'),
        },
      },
    ]);
  });

  it('v2.refunds.succeeded is a SUCCEEDED refund of 15.57 USD', () => {
    expect(parse(fixture('v2.refunds.succeeded'))).toEqual([
      {
        providerEventId: '572683623191290916',
        providerType: 'v2.refunds.succeeded',
        occurredAt: new Date('2025-10-28T07:20:15Z'),
        kind: 'refund',
        outcome: 'succeeded',
        refund: {
          ref: '20251028572683602265931714',
          paymentRef: '572679783406649282',
          amount: { currency: 'USD', amountMinor: 1557n },
          status: 'SUCCEEDED',
          reason: '',
          failure: undefined,
        },
      },
    ]);
  });

  it('reads a v1 name (trades.succeeded) as its v2 twin', () => {
    const v2 = parse(fixture('v2.trades.succeeded'));
    const v1 = parse(withType(fixture('v2.trades.succeeded'), 'trades.succeeded'));
    expect(v1).toEqual(v2.map((event) => ({ ...event, providerType: 'trades.succeeded' })));
  });

  it.each(['v2.subscription.updated', 'v2.customer.created', 'something.else'])('ignores %s', (type) => {
    const body = withType(fixture('v2.trades.succeeded'), type);
    expect(parse(body)).toEqual([]);
    expect(subotizWebhooks.envelope(signed(body)).eventType).toBe(type);
  });

  it('reads a failed trade with its error', () => {
    const event = JSON.parse(fixture('v2.trades.succeeded').toString('utf8')) as { data: Record<string, unknown> };
    event.data = {
      ...event.data,
      trade_status: 'payment_failed',
      payment_mode: 'recurring_payment',
      last_payment_error: { code: 'card_declined', message: 'Insufficient funds' },
      paid_at: null,
    };
    const [parsed] = parse(withType(Buffer.from(JSON.stringify(event)), 'v2.trades.payment_failed'));
    expect(parsed).toMatchObject({
      kind: 'payment',
      outcome: 'failed',
      payment: {
        kind: 'recurring',
        status: 'FAILED',
        failure: { code: 'card_declined', message: 'Insufficient funds' },
        paidAt: undefined,
      },
    });
  });

  it.each([
    ['an amount more precise than USD', { amount: '30.001' }],
    ['an unknown trade status', { trade_status: 'exploded' }],
    ['a missing trade id', { trade_id: '' }],
    ['a non-RFC 3339 time', { paid_at: 'yesterday' }],
  ])('refuses %s as INVALID_ARGUMENT', (_, change) => {
    const event = JSON.parse(fixture('v2.trades.succeeded').toString('utf8')) as { data: Record<string, unknown> };
    event.data = { ...event.data, ...change };
    expect(() => parse(Buffer.from(JSON.stringify(event)))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as DomainError,
    );
  });

  it('refuses an event we act on whose data is not an object', () => {
    const body = Buffer.from('{"id":"1","type":"v2.invoice.paid","created":"2025-11-27T07:57:35Z","data":null}');
    expect(() => parse(body)).toThrow(DomainError);
  });
});
