import { loadConfig } from '../../src/config/config';

describe('MERCHANT_RENEWAL_DUNNING_DAYS', () => {
  it('defaults to retries 1, 3 and 5 days after the period end', () => {
    expect(loadConfig({}).merchantRenewalDunningDays).toEqual([1, 3, 5]);
  });

  it('reads comma-separated days', () => {
    expect(loadConfig({ MERCHANT_RENEWAL_DUNNING_DAYS: ' 2, 4 ,7' }).merchantRenewalDunningDays).toEqual([2, 4, 7]);
  });

  it.each(['0', '1,1', '3,2', '1,x', '1.5', '366', '-1', Array.from({ length: 21 }, (_, i) => i + 1).join(',')])(
    'refuses %p, naming the variable',
    (value) => {
      expect(() => loadConfig({ MERCHANT_RENEWAL_DUNNING_DAYS: value })).toThrow('MERCHANT_RENEWAL_DUNNING_DAYS');
    },
  );
});
