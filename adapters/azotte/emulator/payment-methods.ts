import type { EmulatorState } from './state';
import type { CustomerRecord, PaymentMethodRecord, ThreeDsMode } from './records';

/** The test cards every customer of a `test_cards` tenant has (item 45), like a PSP's test tokens. */
const TEST_CARDS: readonly { urn: string; last4: string; threeDs: ThreeDsMode; outcome: 'success' | 'decline' }[] = [
  { urn: 'pm.test.visa', last4: '1111', threeDs: 'none', outcome: 'success' },
  { urn: 'pm.test.visa_3ds', last4: '3184', threeDs: 'redirect', outcome: 'success' },
  { urn: 'pm.test.declined', last4: '0002', threeDs: 'none', outcome: 'decline' },
];

/** Whether `urn` names a test card: one urn shared by every customer of a `test_cards` tenant. */
export function isTestCard(urn: string): boolean {
  return TEST_CARDS.some((card) => card.urn === urn);
}

/** Gives a customer the three test cards (once; a card already there is kept as it is). */
export function addTestCards(state: EmulatorState, customer: CustomerRecord): void {
  for (const card of TEST_CARDS) {
    if (state.method(customer.customerUrn, card.urn)) continue;
    state.putMethod({
      paymentMethodUrn: card.urn,
      customerUrn: customer.customerUrn,
      cardType: 'VISA',
      last4: card.last4,
      cardAlias: card.urn.slice('pm.test.'.length),
      state: 'Active',
      storedAt: customer.createdAt,
      threeDs: card.threeDs,
      outcome: card.outcome,
    });
  }
}

/** Stores a card for a customer by the control (item 45): `pm.00.<customer number>.<k>`. */
export function storeCard(
  state: EmulatorState,
  customer: CustomerRecord,
  card: Pick<PaymentMethodRecord, 'cardType' | 'last4' | 'cardAlias' | 'threeDs' | 'outcome'>,
): PaymentMethodRecord {
  customer.lastMethod += 1;
  const number = customer.customerUrn.split('.').at(-1) ?? '0';
  const method: PaymentMethodRecord = {
    ...card,
    paymentMethodUrn: `pm.00.${number}.${customer.lastMethod}`,
    customerUrn: customer.customerUrn,
    state: 'Active',
    storedAt: state.now,
  };
  state.putMethod(method);
  return method;
}

/** A customer's methods that are not deleted, oldest first. */
export function methodsOf(state: EmulatorState, customerUrn: string): PaymentMethodRecord[] {
  return [...state.methods.values()].filter((m) => m.customerUrn === customerUrn && m.state !== 'Deleted');
}
