import type { Failure } from '../../kit/emulator/faults';
import type { AzotteBundle, AzotteCampaign } from './types';

// What the emulator keeps, one interface per object. Times are epoch ms on the emulator clock; money is bigint
// milpieces (major units × 100, item 11).

export interface CustomerRecord {
  customerUrn: string;
  tenant: string;
  externalIdentifier: string;
  email: string | null;
  phoneNumber: string | null;
  firstName: string | null;
  lastName: string | null;
  legalType: 'Individual' | 'Corporate';
  primaryBillingAddress: Record<string, unknown> | null;
  claimedRegion: { countryCode: string; languageCode: string } | null;
  createdAt: number;
  /** The next payment method number (`pm.00.<n>.<k>`). */
  lastMethod: number;
}

export type ThreeDsMode = 'none' | 'redirect' | 'html';

export interface PaymentMethodRecord {
  paymentMethodUrn: string;
  customerUrn: string;
  cardType: string;
  last4: string;
  cardAlias: string | null;
  state: 'Active' | 'Inactive' | 'Deleted';
  storedAt: number;
  threeDs: ThreeDsMode;
  outcome: 'success' | 'decline';
}

export interface OfferItem {
  itemIdentifier: string;
  bundle: AzotteBundle;
  campaign: AzotteCampaign | null;
}

export interface OfferRecord {
  offerIdentifier: string;
  tenant: string;
  customerUrn: string;
  storefrontUrn: string;
  interactionType: 'NewAcquisition' | 'Replace';
  originalOrderIdentifier: string | null;
  expiresAt: number;
  items: OfferItem[];
}

export type CheckoutState = 'Processing' | 'ThreeDs' | 'Done' | 'Failed';

export interface CheckoutRecord {
  trackingNumber: string;
  tenant: string;
  correlationId: string;
  customerUrn: string;
  offerIdentifier: string;
  item: OfferItem;
  interactionType: 'NewAcquisition' | 'Replace';
  originalOrderIdentifier: string | null;
  paymentMethodUrn: string;
  state: CheckoutState;
  createdAt: number;
  /** While Processing: when the card's outcome is decided. */
  decideAt: number;
  threeDs: { id: string; mode: 'redirect' | 'html'; deadline: number } | null;
  orderIdentifier: string | null;
  failure: Failure | null;
}

export type SubscriptionState = 'Trial' | 'Active' | 'Reactivated' | 'PastDue' | 'Canceled' | 'Expired' | 'Paused';

export interface SubscriptionRecord {
  orderIdentifier: string;
  tenant: string;
  originalOrderIdentifier: string | null;
  replacedByOrderIdentifier: string | null;
  correlationId: string | null;
  customerUrn: string;
  bundle: AzotteBundle;
  state: SubscriptionState;
  startDate: number;
  endDate: number | null;
  currentPeriodStart: number;
  currentPeriodEnd: number;
  trialEndDate: number | null;
  cancelationMethod: 'Immediate' | 'EndOfPeriod' | null;
  canceledAt: number | null;
  paymentMethodUrn: string | null;
  initialAssignmentType: 'Purchase' | 'Replace' | 'Grant';
  subscriptionChannel: string;
  /** The campaign applied to the next `cyclesLeft` charges. */
  campaign: { code: AzotteCampaign; cyclesLeft: number } | null;
  /** A cancel request waiting for its confirm (item 30: valid 30 min). */
  cancelRequest: { method: 'Immediate' | 'EndOfPeriod'; at: number } | null;
  /** A failed renewal being retried every 24 h (item 33). */
  dunning: { retriesDone: number; nextRetryAt: number } | null;
  /** Billing periods paid so far (a Replace's new subscription starts again at 0); the next charge pays this + 1. */
  paidCycles: number;
}

export interface PaymentRecord {
  paymentUrn: string;
  tenant: string;
  orderIdentifier: string;
  customerUrn: string;
  paymentMethodUrn: string | null;
  kind: 'Initial' | 'Renewal' | 'Replace';
  amountMilpieces: bigint;
  currency: string;
  state: 'Captured' | 'Failed' | 'Refunded';
  periodStart: number;
  periodEnd: number;
  failure: Failure | null;
  refundedMilpieces: bigint;
  /** The billing period it pays: 1 for the first, the same for every dunning attempt of one period (item 38). */
  cycle: number;
}

export interface EntitlementRecord {
  entitlementUrn: string;
  tenant: string;
  customerUrn: string;
  orderIdentifier: string | null;
  featureKey: string;
  activeFrom: number;
  activeUntil: number | null;
  source: 'Bundle' | 'Grant';
  revoked: boolean;
}
