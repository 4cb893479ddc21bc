import { fromAmountText, toAmountText, toPriceNumber } from '../../adapters/paytiko/amounts';
import {
  customerBody,
  httpsRuleBroken,
  isProcessorKey,
  membershipTerms,
  parseEmitterQueue,
  requireKey,
  requireWebhookUrl,
  splitName,
} from '../../adapters/paytiko/validation';
import { paytiko } from '../../adapters/paytiko';
import { DomainError } from '../../src/domain/errors';
import type { CustomerDetails, PlanTerms } from '../../src/ports/provider-adapter.port';

const PROCESSOR = '3f2a1c9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b';

const customer = (over: Partial<CustomerDetails> = {}): CustomerDetails => ({
  id: 'cus_1',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  phone: '+4915112345678',
  country: 'DE',
  ...over,
});

const plan = (over: Partial<PlanTerms> = {}): PlanTerms => ({
  id: 'plan_basic',
  name: 'Basic monthly',
  price: { currency: 'EUR', amountMinor: 999n },
  interval: { unit: 'MONTH', count: 1 },
  trialDays: 0,
  ...over,
});

function violationsOf(run: () => unknown): { field: string; rule: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('INVALID_ARGUMENT');
    return (error as DomainError).violations;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('Paytiko name split', () => {
  it('takes the last word as the last name and the rest as the first, spaces trimmed and collapsed', () => {
    expect(splitName('  Ada   King  Lovelace ')).toEqual({ firstName: 'Ada King', lastName: 'Lovelace' });
    expect(splitName('Jean-Luc Picard')).toEqual({ firstName: 'Jean-Luc', lastName: 'Picard' });
    expect(splitName('Zoë Ångström')).toEqual({ firstName: 'Zoë', lastName: 'Ångström' });
  });

  it('refuses one word, digits or symbols, and parts over 100 characters, naming customer.name', () => {
    expect(violationsOf(() => splitName('Madonna'))).toEqual([
      { field: 'customer.name', rule: expect.stringContaining('must have a first and a last name') },
    ]);
    expect(violationsOf(() => splitName('R2 D2'))[0]!.rule).toMatch(/firstName must be letters/);
    expect(violationsOf(() => splitName('Ada O’Brien'))[0]!.rule).toMatch(/lastName must be letters/);
    expect(violationsOf(() => splitName(`Ada ${'x'.repeat(101)}`))[0]!.rule).toMatch(/at most 100/);
  });
});

describe('Paytiko customer rules', () => {
  it('builds the Create Customer body with the binding’s processorKey and the address', () => {
    const body = customerBody(
      customer({
        country: 'de',
        address: { line1: 'Str 1', line2: '', city: 'Berlin', region: '', postalCode: '10115', country: 'DE' },
      }),
      PROCESSOR,
    );
    expect(body).toEqual({
      processorKey: PROCESSOR,
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      phone: '+4915112345678',
      countryCode: 'DE',
      address1: 'Str 1',
      address2: undefined,
      city: 'Berlin',
      state: undefined,
      zipCode: '10115',
    });
  });

  it('names every broken field at once: email, E.164 phone (required), ISO country (required)', () => {
    const fields = violationsOf(() =>
      customerBody(customer({ name: 'Ada', email: 'not-an-email', phone: '015112345678', country: 'XX' }), PROCESSOR),
    ).map((v) => v.field);
    expect(fields).toEqual(['customer.name', 'customer.email', 'customer.phone', 'customer.country']);
    const missing = violationsOf(() => customerBody(customer({ phone: '', country: '' }), PROCESSOR));
    expect(missing).toEqual([
      { field: 'customer.phone', rule: expect.stringContaining('required') },
      { field: 'customer.country', rule: expect.stringContaining('required') },
    ]);
    expect(violationsOf(() => customerBody(customer({ phone: '+0123456789' }), PROCESSOR))[0]!.field).toBe(
      'customer.phone',
    );
    expect(violationsOf(() => customerBody(customer({ phone: '+1234567' }), PROCESSOR))[0]!.field).toBe(
      'customer.phone',
    );
  });
});

describe('Paytiko membership terms', () => {
  const terms = (p: PlanTerms, quantity = 1) =>
    membershipTerms({ plan: p, quantity, orderId: 'sub_1', metadata: '{}' });

  it('computes totalAmount = price × quantity in minor units, pricePerUnit as the number of the same text', () => {
    expect(terms(plan(), 2)).toEqual({
      name: 'Basic monthly',
      pricing: { currency: 'EUR', totalAmount: '19.98', pricePerUnit: 9.99, quantity: 2 },
      cycle: { intervalType: 'Monthly', intervalCount: 1 },
    });
    const yen = terms(plan({ price: { currency: 'JPY', amountMinor: 1000n } }), 3).pricing;
    expect(yen).toEqual({ currency: 'JPY', totalAmount: '3000', pricePerUnit: 1000, quantity: 3 });
    const dinar = terms(plan({ price: { currency: 'KWD', amountMinor: 1250n } })).pricing;
    expect(dinar).toMatchObject({ totalAmount: '1.250', pricePerUnit: 1.25 });
    // 0.1 + 0.2 style float sums never happen: 3 × 0.10 is "0.30" exactly.
    expect(terms(plan({ price: { currency: 'EUR', amountMinor: 10n } }), 3).pricing.totalAmount).toBe('0.30');
  });

  it('maps intervals with Paytiko’s count limits', () => {
    expect(terms(plan({ interval: { unit: 'DAY', count: 365 } })).cycle).toEqual({
      intervalType: 'Daily',
      intervalCount: 365,
    });
    expect(terms(plan({ interval: { unit: 'WEEK', count: 52 } })).cycle.intervalType).toBe('Weekly');
    expect(terms(plan({ interval: { unit: 'YEAR', count: 3 } })).cycle.intervalType).toBe('Annually');
    for (const [unit, count] of [
      ['DAY', 366],
      ['WEEK', 53],
      ['MONTH', 13],
      ['YEAR', 4],
      ['MONTH', 0],
    ] as const) {
      expect(violationsOf(() => terms(plan({ interval: { unit, count } })))).toEqual([
        { field: 'plan.interval.count', rule: expect.stringMatching(/^must be from 1 to/) },
      ]);
    }
  });

  it('refuses a zero total, an unknown currency, a bad quantity, names over 250, orderIds over 100', () => {
    expect(violationsOf(() => terms(plan({ price: { currency: 'EUR', amountMinor: 0n } })))[0]!.field).toBe(
      'plan.price',
    );
    expect(violationsOf(() => terms(plan({ price: { currency: 'EUX', amountMinor: 1n } })))[0]!.field).toBe(
      'plan.currency',
    );
    expect(violationsOf(() => terms(plan(), 0))[0]!.field).toBe('quantity');
    expect(violationsOf(() => terms(plan({ name: 'x'.repeat(251) })))[0]!.field).toBe('plan.name');
    expect(violationsOf(() => terms(plan({ name: '  ' })))[0]!.field).toBe('plan.name');
    expect(
      violationsOf(() => membershipTerms({ plan: plan(), quantity: 1, orderId: 'o'.repeat(101), metadata: '' })),
    ).toEqual([{ field: 'order_id', rule: 'must be at most 100 characters' }]);
    expect(
      violationsOf(() => terms(plan({ price: { currency: 'EUR', amountMinor: 1234567890123456n } })))[0]!.field,
    ).toBe('plan.price');
  });
});

describe('Paytiko money text', () => {
  it('writes minor units with the currency’s digits and reads them back exactly', () => {
    expect(toAmountText(999n, 'EUR')).toBe('9.99');
    expect(toAmountText(1000n, 'JPY')).toBe('1000');
    expect(toAmountText(-321n, 'EUR')).toBe('-3.21');
    expect(fromAmountText('9.99', 'EUR', 'amount')).toEqual({ currency: 'EUR', amountMinor: 999n });
    expect(fromAmountText('1000', 'jpy', 'amount')).toEqual({ currency: 'JPY', amountMinor: 1000n });
    expect(fromAmountText('-3.21', 'EUR', 'credits').amountMinor).toBe(-321n);
    expect(fromAmountText(9.99, 'EUR', 'pricePerUnit').amountMinor).toBe(999n);
    expect(toPriceNumber(999n, 'EUR')).toBe(9.99);
    expect(toPriceNumber(123456789012345n, 'EUR')).toBe(1234567890123.45);
  });

  it('refuses more digits than the currency has, and text that is not a decimal', () => {
    expect(() => fromAmountText('9.999', 'EUR', 'invoice.amount')).toThrow(/more decimal places/);
    expect(() => fromAmountText('10.5', 'JPY', 'invoice.amount')).toThrow(/more decimal places/);
    expect(() => fromAmountText('1e3', 'EUR', 'invoice.amount')).toThrow(/not a decimal/);
    expect(() => fromAmountText('', 'EUR', 'invoice.amount')).toThrow(/required/);
  });
});

describe('Paytiko URLs, keys and binding', () => {
  it('takes https anywhere and plain http only to a loopback host', () => {
    for (const ok of ['https://shop.example/x', 'http://localhost:8080/a', 'http://127.0.0.2/a', 'http://[::1]:9/a']) {
      expect(httpsRuleBroken(ok)).toBeUndefined();
    }
    for (const bad of ['http://shop.example/x', 'ftp://localhost/a', '/relative', 'http://10.0.0.1/a']) {
      expect(httpsRuleBroken(bad)).toBeDefined();
    }
  });

  it('refuses our own non-https webhook URL as FAILED_PRECONDITION naming PUBLIC_BASE_URL', () => {
    expect(() => requireWebhookUrl('http://billing.example/webhooks/paytiko/sf')).toThrow(
      expect.objectContaining({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('PUBLIC_BASE_URL') }),
    );
    expect(requireWebhookUrl('http://127.0.0.1:8080/webhooks/paytiko/sf')).toContain('127.0.0.1');
  });

  it('refuses a stored reference without Paytiko’s key prefix as FAILED_PRECONDITION', () => {
    expect(requireKey('mmbrshp_abc', 'mmbrshp_', 'subscription')).toBe('mmbrshp_abc');
    for (const bad of ['sub_123', 'mmbrshp_', 'cstmr_abc', 'mmbrshp_a b']) {
      expect(() => requireKey(bad, 'mmbrshp_', 'subscription')).toThrow(
        expect.objectContaining({ code: 'FAILED_PRECONDITION' }),
      );
    }
  });

  it('checks the processor key, the emitter queue, and requires username and password', () => {
    expect(isProcessorKey(PROCESSOR)).toBe(true);
    expect(isProcessorKey('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isProcessorKey('3f2a1c9e8b7d4e6f9a1b2c3d4e5f6a7b')).toBe(false);
    expect(parseEmitterQueue('Success, rejected')).toEqual({
      queue: [
        { transactionStatus: 'Success', description: 'test charge 1' },
        { transactionStatus: 'Rejected', description: 'test charge 2' },
      ],
    });
    expect(parseEmitterQueue('Success,Maybe')).toEqual({ error: expect.stringContaining('item 2') });
    expect(parseEmitterQueue(Array(51).fill('Success').join(','))).toEqual({ error: expect.stringContaining('50') });
    expect(paytiko.validateBinding!({}, {})).toEqual([
      { field: 'provider_config.processor_key', rule: expect.stringContaining('required') },
      { field: 'secret_refs.username', rule: expect.stringContaining('required') },
      { field: 'secret_refs.password', rule: expect.stringContaining('required') },
    ]);
    expect(
      paytiko.validateBinding!(
        { processor_key: PROCESSOR, test_charge_emitter_queue: 'Success,Rejected' },
        { username: 'env:U', password: 'env:P' },
      ),
    ).toEqual([]);
    expect(
      paytiko.validateBinding!(
        { processor_key: 'nope', test_charge_emitter_queue: 'x' },
        { username: 'env:U', password: 'env:P' },
      ).map((v) => v.field),
    ).toEqual(['provider_config.processor_key', 'provider_config.test_charge_emitter_queue']);
  });
});
