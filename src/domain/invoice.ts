import type { Money } from './money';

export type InvoiceType = 'INITIAL' | 'TRIAL' | 'RENEWAL' | 'UPGRADE' | 'REFUND';
export type InvoiceStatus = 'OPEN' | 'PAID' | 'FAILED' | 'VOID' | 'REFUNDED' | 'PARTIALLY_REFUNDED';

/** One billing cycle's charge of a subscription. */
export interface Invoice {
  id: string;
  subscriptionId: string;
  customerId: string;
  amount: Money;
  type: InvoiceType;
  status: InvoiceStatus;
  cycleIndex: number;
  periodStart?: Date;
  periodEnd?: Date;
  providerRef?: string;
  createdAt: Date;
  updatedAt: Date;
}
