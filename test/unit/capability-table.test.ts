import fs from 'node:fs';
import path from 'node:path';
import { capabilityBlockOf, shippedCapabilityTable, withCapabilityTable } from '../../scripts/capability-doc';
import {
  CAPABILITY_TABLE_BEGIN,
  CAPABILITY_TABLE_END,
  capabilityTable,
} from '../../src/app/providers/capability-table';
import type { LoadedProvider } from '../../src/app/providers/provider-registry';
import type { ProviderFeatures, ProviderOperations } from '../../src/ports/provider-adapter.port';

const README = path.resolve(__dirname, '../../README.md');

const FEATURES: ProviderFeatures = {
  pricing: { by: 'inline' },
  checkout: 'hosted',
  checkoutVariants: [],
  cancelAtPeriodEnd: 'native',
  entitlements: 'derived',
  webhooks: 'state',
  renewals: ['provider'],
  trials: 'native',
};

const op = async () => {
  throw new Error('never called');
};

/** A loaded provider with the operations and features a test names; nothing in it is ever called. */
function provider(
  id: string,
  operations: (keyof ProviderOperations)[],
  features: Partial<ProviderFeatures> = {},
): LoadedProvider {
  return {
    id,
    module: { id } as LoadedProvider['module'],
    features: { ...FEATURES, ...features },
    operations: Object.fromEntries(operations.map((name) => [name, op])),
    preflight: {},
  };
}

/** The table's rows as { operation: [cell per provider] }. */
function cells(table: string): Record<string, string[]> {
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  return Object.fromEntries(
    rows.map((line) => {
      const [operation, ...rest] = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return [operation!.replace(/`/g, ''), rest];
    }),
  );
}

describe('the capability table', () => {
  it('README.md carries the table generated from the shipped providers (else: npm run docs:capabilities)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(capabilityBlockOf(readme)).toBe(shippedCapabilityTable());
  });

  it('says what each provider lacks as the core answers it: UNIMPLEMENTED, refused, or served from our records', () => {
    const table = cells(
      capabilityTable([
        provider('full', ['createCheckout', 'cancelSubscription', 'getSubscription'], {
          checkoutVariants: ['embedded'],
        }),
        provider('lean', ['createCheckout', 'cancelSubscription'], { trials: 'none', cancelAtPeriodEnd: 'emulated' }),
        provider('bare', []),
      ]),
    );
    expect(table['CreateCheckoutSession.embedded']).toEqual(['NATIVE', 'UNIMPLEMENTED', 'UNIMPLEMENTED']);
    // A provider without trials refuses a trial plan; one without checkout at all cannot sell it in the first place.
    expect(table['CreateCheckoutSession.trial']).toEqual(['NATIVE', 'refused (FAILED_PRECONDITION)', 'UNIMPLEMENTED']);
    expect(table['CancelSubscription.at_period_end']).toEqual(['NATIVE', 'EMULATED', 'UNIMPLEMENTED']);
    expect(table.RevokeCancellation).toEqual(['UNIMPLEMENTED', 'EMULATED', 'UNIMPLEMENTED']);
    expect(table.GetSubscription).toEqual(['NATIVE', 'our records', 'our records']);
    expect(table.PauseSubscription).toEqual(['UNIMPLEMENTED', 'UNIMPLEMENTED', 'UNIMPLEMENTED']);
    expect(table['Renewals.merchant']).toEqual(['provider renews', 'provider renews', 'provider renews']);
  });

  it('lists every RPC a provider serves, each variant right after its RPC', () => {
    const operations = Object.keys(cells(shippedCapabilityTable()));
    const checkout = operations.indexOf('CreateCheckoutSession');
    expect(operations.slice(checkout, checkout + 3)).toEqual([
      'CreateCheckoutSession',
      'CreateCheckoutSession.hosted',
      'CreateCheckoutSession.embedded',
    ]);
    expect(operations).toEqual(expect.arrayContaining(['PauseSubscription', 'CreateRefund', 'CreatePortalSession']));
  });

  it('rewrites only what lies between the markers, and a second run changes nothing', () => {
    const doc = `# Title\n\nbefore\n\n${CAPABILITY_TABLE_BEGIN}\n\nstale\n\n${CAPABILITY_TABLE_END}\n\nafter\n`;
    const once = withCapabilityTable(doc, '| a |');
    expect(once).toBe(`# Title\n\nbefore\n\n${CAPABILITY_TABLE_BEGIN}\n\n| a |\n\n${CAPABILITY_TABLE_END}\n\nafter\n`);
    expect(withCapabilityTable(once, '| a |')).toBe(once);
    expect(() => withCapabilityTable('# no markers', '| a |')).toThrow(/capability-table:begin/);
  });
});
