import type { IntervalType } from './billing-dates';

// What the emulator stores. Times are epoch ms on the emulator clock; money is bigint minor units.

export type MembershipStatus = 'Incomplete' | 'Expired' | 'Active' | 'PastDue' | 'Unpaid' | 'Canceled' | 'Completed';
export type InvoiceType = 'Initial' | 'Recurring' | 'Proration';
export type InvoiceStatus = 'Open' | 'Paid' | 'Failed' | 'Void';
export type TransactionStatus = 'Success' | 'Rejected' | 'Failed' | 'Declined' | 'Cancelled' | 'Pending';

export interface CustomerRecord {
  key: string;
  merchant: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  countryCode: string;
  address1: string | null;
  address2: string | null;
  city: string | null;
  state: string | null;
  zipCode: string | null;
  createdAt: number;
}

export interface TransactionRecord {
  transactionId: number;
  transactionType: 'PayIn' | 'Refund';
  transactionStatus: TransactionStatus;
  amount: bigint;
  declineReasonText: string | null;
  issuedAt: number;
}

export interface InvoiceRecord {
  key: string;
  type: InvoiceType;
  status: InvoiceStatus;
  amount: bigint;
  creditApplied: bigint;
  periodStart: number;
  periodEnd: number;
  issuedAt: number;
  cycle: number;
  transactions: TransactionRecord[];
}

/** One scripted outcome of a recurring charge (the document's chargeEmitterQueue). */
export interface ScriptedCharge {
  transactionStatus: 'Success' | 'Rejected';
  description: string;
}

/** Fields an update changes, kept as the update asked until its proration charge succeeds. */
export interface MembershipChanges {
  name?: string;
  pricePerUnit?: string;
  quantity?: number;
  intervalType?: IntervalType;
  intervalCount?: number;
  endDate?: number | null;
  metadata?: string;
}

export interface PendingUpdate {
  changes: MembershipChanges;
  newTotal: bigint;
  prorationAmount: bigint;
  invoiceKey: string | null;
  /** When the proration charge runs (the emulator's "right after the answer"). */
  chargeAt: number;
}

/** A failed recurring invoice being retried every 24 h. */
export interface Dunning {
  invoiceKey: string;
  retriesDone: number;
  nextRetryAt: number;
}

export interface MembershipRecord {
  key: string;
  id: number;
  merchant: string;
  customerKey: string;
  orderId: string;
  status: MembershipStatus;
  name: string;
  description: string | null;
  currency: string;
  totalAmount: bigint;
  /** The unit price's decimal text as the caller's JSON number read (null when none was given). */
  pricePerUnit: string | null;
  quantity: number | null;
  intervalType: IntervalType;
  intervalCount: number;
  startDate: number | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  endDate: number | null;
  canceledAt: number | null;
  metadata: string | null;
  credits: bigint;
  webhookUrl: string;
  chargeQueue: ScriptedCharge[];
  cycle: number;
  dunning: Dunning | null;
  pendingUpdate: PendingUpdate | null;
  /** Oldest first (the wire shows the newest 50 first). */
  invoices: InvoiceRecord[];
  createdAt: number;
  updatedAt: number;
}

export type SessionKind = 'checkout' | 'portal';

export interface SessionRecord {
  token: string;
  kind: SessionKind;
  merchant: string;
  customerKey: string;
  membershipKey: string | null;
  returnUrl: string | null;
  expiresAt: number;
}

export interface TokenRecord {
  merchant: string;
  expiresAt: number;
}
