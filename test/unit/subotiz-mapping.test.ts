import { createHash, createHmac } from 'node:crypto';
import { deriveRequestId, hubSignature, hubSignatureString } from '../../adapters/subotiz/client';
import {
  fromSubotizAmount,
  mapInvoiceStatus,
  mapInvoiceType,
  mapPaymentKind,
  mapRefundStatus,
  mapSubscriptionStatus,
  mapTradeRefundStatus,
  mapTradeStatus,
  toCheckoutState,
  toSubotizAmount,
  toSubscriptionState,
  webhookMeaning,
} from '../../adapters/subotiz/mapping';
import { optionalInt, optionalTime, parseSubotizJson } from '../../adapters/subotiz/wire';
import { DomainError } from '../../src/domain/errors';

const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as DomainError;

describe('Subotiz money', () => {
  it.each([
    [3000n, 'USD', '30.00'],
    [5n, 'USD', '0.05'],
    [1500n, 'JPY', '1500'],
    [1234n, 'KWD', '1.234'],
    [1000n, 'KWD', '1.000'],
  ])('writes %s minor %s as "%s"', (minor, currency, text) => {
    expect(toSubotizAmount({ currency, amountMinor: minor })).toBe(text);
    expect(fromSubotizAmount(text, currency, 'amount')).toEqual({ currency, amountMinor: minor });
  });

  it.each([
    ['10', 'USD', 1000n],
    ['30.5', 'USD', 3050n],
    ['1.2', 'KWD', 1200n],
    ['7', 'KWD', 7000n],
    ['1500.00', 'JPY', 1500n],
  ])('reads "%s" %s leniently as %s minor units', (text, currency, minor) => {
    expect(fromSubotizAmount(text, currency, 'amount').amountMinor).toBe(minor);
  });

  it.each([
    ['30.001', 'USD'],
    ['1.5', 'JPY'],
    ['1.2345', 'KWD'],
  ])('refuses "%s" %s as more precise than the currency', (text, currency) => {
    expect(() => fromSubotizAmount(text, currency, 'trade.amount')).toThrow(invalid);
    expect(() => fromSubotizAmount(text, currency, 'trade.amount')).toThrow(/trade\.amount/);
  });

  it('refuses a missing amount or currency, and an unknown currency', () => {
    expect(() => fromSubotizAmount(undefined, 'USD', 'amount')).toThrow(invalid);
    expect(() => fromSubotizAmount('1.00', '', 'amount')).toThrow(invalid);
    expect(() => fromSubotizAmount('1.00', 'XYZ', 'amount')).toThrow(invalid);
    expect(() => toSubotizAmount({ currency: 'XYZ', amountMinor: 1n })).toThrow(invalid);
  });
});

describe('Subotiz statuses', () => {
  it.each([
    ['init', 'INCOMPLETE'],
    ['incomplete', 'INCOMPLETE'],
    ['trial', 'TRIALING'],
    ['active', 'ACTIVE'],
    ['paused', 'PAUSED'],
    ['past_due', 'PAST_DUE'],
    ['unpaid', 'UNPAID'],
    ['canceled', 'CANCELED'],
  ])('subscription %s → %s', (status, ours) => {
    expect(mapSubscriptionStatus(status)).toBe(ours);
  });

  it.each([
    [12, 12, 'COMPLETED'],
    [12, 13, 'COMPLETED'],
    [12, 11, 'CANCELED'],
    [0, 5, 'CANCELED'],
    [undefined, 5, 'CANCELED'],
    [12, undefined, 'CANCELED'],
  ])('canceled with total_cycles %s and cycle_index %s is %s', (total, index, ours) => {
    expect(mapSubscriptionStatus('canceled', total, index)).toBe(ours);
  });

  it('applies the COMPLETED rule only to canceled, reading string counters', () => {
    expect(mapSubscriptionStatus('active', 3, 3)).toBe('ACTIVE');
    const data = { id: '1', status: 'canceled', total_cycles: '3', cycle_index: '3', updated_at: '' };
    expect(toSubscriptionState(data).status).toBe('COMPLETED');
  });

  it.each([
    ['requires_payment_method', 'REQUIRES_PAYMENT_METHOD'],
    ['processing', 'PROCESSING'],
    ['requires_action', 'PROCESSING'],
    ['payment_failed', 'FAILED'],
    ['succeeded', 'SUCCEEDED'],
    ['closed', 'CLOSED'],
  ])('trade %s → %s', (status, ours) => {
    expect(mapTradeStatus(status)).toBe(ours);
  });

  it.each([
    ['no_refund', 'NONE'],
    ['partially_refunded', 'PARTIALLY_REFUNDED'],
    ['refunded', 'REFUNDED'],
    [undefined, 'NONE'],
  ])('trade refund_status %s → %s', (status, ours) => {
    expect(mapTradeRefundStatus(status)).toBe(ours);
  });

  it.each([
    ['pending', 'PENDING'],
    ['succeeded', 'SUCCEEDED'],
    ['failed', 'FAILED'],
  ])('refund %s → %s', (status, ours) => {
    expect(mapRefundStatus(status)).toBe(ours);
  });

  it.each([
    ['open', 'OPEN'],
    ['success', 'PAID'],
    ['failed', 'FAILED'],
    ['refunded', 'REFUNDED'],
    ['partially_refunded', 'PARTIALLY_REFUNDED'],
  ])('invoice status %s → %s', (status, ours) => {
    expect(mapInvoiceStatus(status)).toBe(ours);
  });

  it.each([
    ['initial', 'INITIAL'],
    ['trial', 'TRIAL'],
    ['renewal', 'RENEWAL'],
    ['upgrade', 'UPGRADE'],
    ['refund', 'REFUND'],
  ])('invoice type %s → %s', (type, ours) => {
    expect(mapInvoiceType(type)).toBe(ours);
  });

  it.each([
    ['subscription', 'initial'],
    ['recurring_payment', 'recurring'],
    ['onetime_payment', 'one_time'],
  ])('payment_mode %s → %s', (mode, kind) => {
    expect(mapPaymentKind(mode)).toBe(kind);
  });

  it('refuses statuses it does not know, naming the field', () => {
    expect(() => mapSubscriptionStatus('zombie')).toThrow(/subscription\.status/);
    expect(() => mapTradeStatus(undefined)).toThrow(invalid);
    expect(() => mapInvoiceStatus('constructor')).toThrow(invalid);
    expect(() => mapPaymentKind('gift')).toThrow(invalid);
  });
});

describe('Subotiz webhook types', () => {
  it.each([
    ['subscription.first', { kind: 'subscription', hint: 'activated' }],
    ['subscription.trial_period_expiring', { kind: 'subscription', hint: 'trial_will_end' }],
    ['subscription.price_changed', { kind: 'subscription', hint: 'plan_changed' }],
    ['subscription.paused', { kind: 'subscription', hint: 'paused' }],
    ['subscription.resumed', { kind: 'subscription', hint: 'resumed' }],
    ['subscription.past_due', { kind: 'subscription', hint: 'past_due' }],
    ['subscription.unpaid', { kind: 'subscription', hint: 'unpaid' }],
    ['subscription.cancellation_requested', { kind: 'subscription', hint: 'cancellation_scheduled' }],
    ['subscription.cancellation_revoked', { kind: 'subscription', hint: 'cancellation_revoked' }],
    ['subscription.canceled', { kind: 'subscription', hint: 'canceled' }],
    ['trades.created', { kind: 'payment', outcome: 'created' }],
    ['trades.succeeded', { kind: 'payment', outcome: 'succeeded' }],
    ['trades.payment_failed', { kind: 'payment', outcome: 'failed' }],
    ['invoice.paid', { kind: 'invoice', outcome: 'paid' }],
    ['invoice.payment_failed', { kind: 'invoice', outcome: 'payment_failed' }],
    ['invoice.refunded', { kind: 'invoice', outcome: 'refunded' }],
    ['refunds.succeeded', { kind: 'refund', outcome: 'succeeded' }],
    ['refunds.failed', { kind: 'refund', outcome: 'failed' }],
  ])('%s (v1 and v2) means %o', (name, meaning) => {
    expect(webhookMeaning(name)).toEqual(meaning);
    expect(webhookMeaning(`v2.${name}`)).toEqual(meaning);
  });

  it.each(['v2.subscription.updated', 'v3.trades.succeeded', 'toString', ''])('ignores %p', (type) => {
    expect(webhookMeaning(type)).toBeUndefined();
  });
});

describe('Subotiz Hub-Signature', () => {
  const seedString = 'GET\n/api/v1/payment/query?out_trans_id=2024123232323\n1754562236502\n\n';

  it('builds the seed example string, BODY empty for GET and every part ending in \\n', () => {
    expect(hubSignatureString('GET', '/api/v1/payment/query?out_trans_id=2024123232323', '1754562236502', '')).toBe(
      seedString,
    );
    expect(hubSignatureString('POST', '/api/v1/refund', '1', '{"a":1}')).toBe('POST\n/api/v1/refund\n1\n{"a":1}\n');
  });

  it('signs it as the seed Go/Python example does (lower-case hex HMAC-SHA256 with access_secret)', () => {
    // python: hmac.new(b"your_access_secret", signature_string.encode(), hashlib.sha256).hexdigest()
    expect(hubSignature('your_access_secret', seedString)).toBe(
      '77f241cd7994db37b1184eb645d35bf3f88a20eaf2cfd2e0ff1e80005a03cebf',
    );
    expect(hubSignature('s', seedString)).toBe(createHmac('sha256', 's').update(seedString).digest('hex'));
  });
});

describe('Subotiz Request-Id', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('is the same for the same key and operation, and UUID-shaped', () => {
    const id = deriveRequestId('idem-123', 'createCheckout');
    expect(id).toMatch(UUID);
    expect(deriveRequestId('idem-123', 'createCheckout')).toBe(id);
  });

  it('comes from SHA-256 over key:operation', () => {
    const hex = createHash('sha256').update('idem-123:createCheckout').digest('hex');
    const id = deriveRequestId('idem-123', 'createCheckout').replace(/-/g, '');
    expect(id.slice(0, 12)).toBe(hex.slice(0, 12));
    expect(id.slice(20)).toBe(hex.slice(20, 32));
  });

  it('differs between operations and between keys', () => {
    const ids = new Set([
      deriveRequestId('idem-123', 'createCheckout'),
      deriveRequestId('idem-123', 'refund'),
      deriveRequestId('idem-124', 'createCheckout'),
    ]);
    expect(ids.size).toBe(3);
  });
});

describe('Subotiz wire values', () => {
  it('keeps int64 numbers exact and leaves strings and small numbers alone', () => {
    const parsed = parseSubotizJson(
      '{"id":572677246926464036,"n":-9007199254740993,"s":"a 572677246926464036 \\" x",' +
        '"small":42,"f":1.5,"e":1e3,"list":[12345678901234567890]}',
    );
    expect(parsed).toEqual({
      id: '572677246926464036',
      n: '-9007199254740993',
      s: 'a 572677246926464036 " x',
      small: 42,
      f: 1.5,
      e: 1000,
      list: ['12345678901234567890'],
    });
  });

  it.each([
    ['1', 1],
    [1, 1],
    [' 7 ', 7],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('reads the counter %p as %p', (value, expected) => {
    expect(optionalInt({ n: value }, 'n', 'x')).toBe(expected);
  });

  it.each(['1.5', 'abc', 1.5, true])('refuses the counter %p', (value) => {
    expect(() => optionalInt({ n: value }, 'n', 'x')).toThrow(/x\.n/);
  });

  it('reads RFC 3339 times, with "" and null as unset', () => {
    expect(optionalTime({ t: '2025-10-28T06:54:56Z' }, 't', 'x')).toEqual(new Date('2025-10-28T06:54:56Z'));
    expect(optionalTime({ t: '2025-10-28T08:54:56+02:00' }, 't', 'x')).toEqual(new Date('2025-10-28T06:54:56Z'));
    expect(optionalTime({ t: '' }, 't', 'x')).toBeUndefined();
    expect(optionalTime({ t: null }, 't', 'x')).toBeUndefined();
    expect(() => optionalTime({ t: '28/10/2025' }, 't', 'x')).toThrow(invalid);
    expect(() => optionalTime({ t: 1761634496 }, 't', 'x')).toThrow(invalid);
  });

  it('reads a scheduled cancellation, and takes observedAt from updated_at before the fallback', () => {
    const state = toSubscriptionState(
      { id: '9', status: 'active', is_canceling: 'true', updated_at: '2025-10-28T07:00:00Z' },
      new Date('2025-10-28T08:00:00Z'),
    );
    expect(state).toMatchObject({
      status: 'ACTIVE',
      cancelAtPeriodEnd: true,
      observedAt: new Date('2025-10-28T07:00:00Z'),
    });
    expect(toSubscriptionState({ id: '9', status: 'trial' }, new Date(5)).observedAt).toEqual(new Date(5));
  });
});

describe('Subotiz checkout sessions', () => {
  it('reads open, complete and expire, with what a completed session created', () => {
    expect(toCheckoutState({ id: 'cs_1', status: 'open', order_id: 'sub_1' })).toEqual({
      ref: 'cs_1',
      status: 'OPEN',
      orderId: 'sub_1',
      subscriptionRef: undefined,
      paymentRef: undefined,
    });
    expect(
      toCheckoutState({ session_id: 'cs_2', status: 'complete', subscription_id: '77', trade_id: 'tr_9' }),
    ).toMatchObject({ ref: 'cs_2', status: 'COMPLETE', subscriptionRef: '77', paymentRef: 'tr_9' });
    expect(toCheckoutState({ id: 'cs_3', status: 'expire', trade_id: null })).toMatchObject({
      status: 'EXPIRED',
      paymentRef: undefined,
    });
  });

  it('refuses a status it does not know, naming the field and the allowed values', () => {
    expect(() => toCheckoutState({ id: 'cs_4', status: 'expired' })).toThrow(invalid);
    expect(() => toCheckoutState({ id: 'cs_4', status: 'expired' })).toThrow(/session\.status.*open, complete, expire/);
  });
});
