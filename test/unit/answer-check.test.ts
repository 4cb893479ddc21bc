import { answerViolations, checkedOperation } from '../../src/app/providers/answer-check';
import { DomainError } from '../../src/domain/errors';
import type { ProviderPaymentState } from '../../src/ports/provider-adapter.port';

const payment = (over: Partial<ProviderPaymentState> = {}): ProviderPaymentState => ({
  ref: 'pay_1',
  kind: 'initial',
  amount: { currency: 'EUR', amountMinor: 1999n },
  refundedAmount: { currency: 'EUR', amountMinor: 0n },
  status: 'SUCCEEDED',
  refundState: 'NONE',
  paidAt: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

describe('answerViolations: what the core refuses to store or hand on', () => {
  it('passes an ordinary answer', () => {
    expect(answerViolations(payment(), 'payment')).toEqual([]);
    expect(
      answerViolations(
        { sessionRef: 'cs_1', status: 'OPEN', nextAction: { redirectUrl: 'http://127.0.0.1:9/pay' } },
        'checkout',
      ),
    ).toEqual([]);
  });

  it('money: within ±10^12 minor units, in an ISO 4217 currency, never negative when it moved to or from the customer', () => {
    expect(answerViolations(payment({ amount: { currency: 'EUR', amountMinor: 10n ** 15n } }), 'payment')).toEqual([
      { field: 'payment.amount.amountMinor', rule: 'must be from 0 to 1000000000000 minor units' },
    ]);
    expect(answerViolations(payment({ amount: { currency: 'EUR', amountMinor: -1n } }), 'payment')).toHaveLength(1);
    expect(answerViolations(payment({ amount: { currency: 'XXQ', amountMinor: 1n } }), 'payment')).toEqual([
      { field: 'payment.amount.currency', rule: 'must be an ISO 4217 code' },
    ]);
    // A subscription's payments are payments too; an invoice may be a credit (a proration), so it may be negative.
    const subscription = {
      ref: 'sub_1',
      status: 'ACTIVE',
      invoices: [{ ref: 'in_1', amount: { currency: 'EUR', amountMinor: -500n } }],
      payments: [payment({ refundedAmount: { currency: 'EUR', amountMinor: -1n } })],
    };
    expect(answerViolations(subscription, 'subscription').map((v) => v.field)).toEqual([
      'subscription.payments[0].refundedAmount.amountMinor',
    ]);
  });

  it('text: no NUL anywhere; references at most 255 characters without control characters; other text bounded', () => {
    expect(answerViolations(payment({ failure: { code: 'card_declined', message: 'no\u0000' } }), 'payment')).toEqual([
      { field: 'payment.failure.message', rule: 'contains a NUL character' },
    ]);
    expect(answerViolations(payment({ ref: 'p'.repeat(256) }), 'payment').map((v) => v.field)).toEqual(['payment.ref']);
    expect(answerViolations(payment({ orderId: 'sub_1\n' }), 'payment').map((v) => v.field)).toEqual([
      'payment.orderId',
    ]);
    expect(answerViolations('c'.repeat(300), 'customerRef')).toHaveLength(1);
    expect(answerViolations(payment({ failure: { code: 'x', message: 'm'.repeat(4_097) } }), 'payment')).toHaveLength(
      1,
    );
    expect(answerViolations({ nextAction: { html: `<form>${'x'.repeat(10_000)}</form>` } }, 'checkout')).toEqual([]);
  });

  it('walks what a Money-shaped object carries besides its amount; refuses what is not plain data', () => {
    expect(answerViolations({ amountMinor: 1n, currency: 'EUR', ref: 'a\u0000' }, 'invoice')).toEqual([
      { field: 'invoice.ref', rule: 'contains a NUL character' },
    ]);
    expect(answerViolations({ ref: 'r', extra: new Map([['k', 'v\u0000']]) }, 'invoice')).toEqual([
      { field: 'invoice.extra', rule: 'is not a plain value' },
    ]);
    expect(answerViolations({ ref: 'r', body: Buffer.from('x') }, 'invoice')).toHaveLength(1);
  });

  it('text that is half of a UTF-16 pair is refused (jsonb refuses it); a whole pair is fine', () => {
    expect(answerViolations({ ref: 'ref_\ud83d' }, 'payment')).toEqual([
      { field: 'payment.ref', rule: 'contains half of a UTF-16 surrogate pair' },
    ]);
    expect(answerViolations({ failure: { code: 'x', message: 'declined \u{1f600}' } }, 'payment')).toEqual([]);
    expect(answerViolations({ orderId: 'sub_\u0085' }, 'payment')).toHaveLength(1);
  });

  it('links: http(s) only, bounded', () => {
    for (const url of [
      'javascript:alert(1)',
      'data:text/html,<script>',
      'not a url',
      `https://x.test/${'a'.repeat(5_000)}`,
    ]) {
      expect(answerViolations({ url }, 'portalSession')).toHaveLength(1);
    }
  });

  it('times within years 1 to 9999; counts whole, non-negative and within a PostgreSQL integer', () => {
    expect(answerViolations(payment({ paidAt: new Date(Number.NaN) }), 'payment')).toHaveLength(1);
    expect(answerViolations(payment({ paidAt: new Date(8.64e15) }), 'payment')).toHaveLength(1);
    // Year 1 itself is a time (some systems' "no date"); year 0 is not.
    expect(answerViolations(payment({ paidAt: new Date('0001-01-01T00:00:00Z') }), 'payment')).toEqual([]);
    expect(answerViolations(payment({ paidAt: new Date('1900-06-01T00:00:00Z') }), 'payment')).toEqual([]);
    expect(answerViolations(payment({ paidAt: new Date('0000-12-31T23:59:59Z') }), 'payment')).toHaveLength(1);
    expect(answerViolations({ quantity: 2 ** 31 }, 'subscription')).toHaveLength(1);
    expect(answerViolations({ cycleIndex: 1.5 }, 'invoice')).toHaveLength(1);
    expect(answerViolations({ quantity: -1 }, 'subscription')).toHaveLength(1);
    expect(answerViolations({ totalQuantity: 2n ** 63n }, 'usage')).toHaveLength(1);
  });

  it('a list of a million bad entries gives a few violations, not a million', () => {
    const records = Array.from({ length: 1_000_000 }, () => ({ ref: 'r\u0000' }));
    expect(answerViolations({ totalQuantity: 1n, records }, 'usage')).toHaveLength(20);
  });

  it('a structure nested past any answer is refused, not walked to the bottom', () => {
    let nested: unknown = 'x';
    for (let i = 0; i < 100_000; i++) nested = { deeper: nested };
    expect(answerViolations(nested, 'checkout')).toEqual([
      { field: `checkout${'.deeper'.repeat(12)}`, rule: 'is nested too deeply' },
    ]);
  });
});

describe('checkedOperation', () => {
  it('answers UNAVAILABLE naming storefront, operation and fields, never the value', async () => {
    const getPayment = checkedOperation(
      'getPayment',
      async () => payment({ failure: { code: 'x', message: 'secret\u0000value' } }),
      'fakepay',
      'store-1',
    );
    const refusal = await getPayment({} as never, 'pay_1').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({ code: 'UNAVAILABLE' });
    expect((refusal as Error).message).toBe(
      "storefront 'store-1': provider 'fakepay' answered getPayment with what cannot be stored: payment.failure.message contains a NUL character",
    );
  });
});
