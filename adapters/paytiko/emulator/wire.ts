import { rfc3339 } from '../../kit/emulator/clock';
import { formatMinorUnits } from '../../kit/currencies';
import type {
  CustomerRecord,
  InvoiceRecord,
  MembershipChanges,
  MembershipRecord,
  PendingUpdate,
  TransactionRecord,
} from './records';

// The API's camelCase shapes (wire contract "Customers", "Memberships").

const LISTED_INVOICES = 50;

export function customerJson(c: CustomerRecord): Record<string, unknown> {
  return {
    customerKey: c.key,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    phone: c.phone,
    countryCode: c.countryCode,
    address1: c.address1,
    address2: c.address2,
    city: c.city,
    state: c.state,
    zipCode: c.zipCode,
    createdAt: rfc3339(c.createdAt),
  };
}

export function membershipJson(m: MembershipRecord): Record<string, unknown> {
  return {
    membershipKey: m.key,
    id: m.id,
    customerKey: m.customerKey,
    orderId: m.orderId,
    status: m.status,
    name: m.name,
    description: m.description,
    currency: m.currency,
    totalAmount: formatMinorUnits(m.totalAmount, m.currency),
    pricePerUnit: m.pricePerUnit === null ? null : Number(m.pricePerUnit),
    quantity: m.quantity,
    intervalType: m.intervalType,
    intervalCount: m.intervalCount,
    startDate: rfc3339(m.startDate),
    currentPeriodStart: rfc3339(m.currentPeriodStart),
    currentPeriodEnd: rfc3339(m.currentPeriodEnd),
    endDate: rfc3339(m.endDate),
    canceledAt: rfc3339(m.canceledAt),
    metadata: m.metadata,
    credits: formatMinorUnits(m.credits, m.currency),
    pendingUpdate: m.pendingUpdate === null ? null : pendingUpdateJson(m, m.pendingUpdate),
    createdAt: rfc3339(m.createdAt),
    updatedAt: rfc3339(m.updatedAt),
    invoices: m.invoices
      .slice(-LISTED_INVOICES)
      .reverse()
      .map((invoice) => invoiceJson(m, invoice)),
  };
}

function pendingUpdateJson(m: MembershipRecord, pending: PendingUpdate): Record<string, unknown> {
  const c = pending.changes;
  return {
    name: c.name ?? null,
    pricePerUnit: c.pricePerUnit === undefined ? null : Number(c.pricePerUnit),
    quantity: c.quantity ?? null,
    intervalType: c.intervalType ?? null,
    intervalCount: c.intervalCount ?? null,
    endDate: c.endDate === undefined ? null : rfc3339(c.endDate),
    metadata: c.metadata ?? null,
    prorationAmount: formatMinorUnits(pending.prorationAmount, m.currency),
    invoiceKey: pending.invoiceKey,
  };
}

export function invoiceJson(m: MembershipRecord, invoice: InvoiceRecord): Record<string, unknown> {
  return {
    invoiceKey: invoice.key,
    type: invoice.type,
    status: invoice.status,
    amount: formatMinorUnits(invoice.amount, m.currency),
    creditApplied: formatMinorUnits(invoice.creditApplied, m.currency),
    currency: m.currency,
    periodStart: rfc3339(invoice.periodStart),
    periodEnd: rfc3339(invoice.periodEnd),
    issuedAt: rfc3339(invoice.issuedAt),
    cycle: invoice.cycle,
    transactions: invoice.transactions.map((t) => transactionJson(m, t)),
  };
}

function transactionJson(m: MembershipRecord, t: TransactionRecord): Record<string, unknown> {
  return {
    transactionId: t.transactionId,
    transactionType: t.transactionType,
    transactionStatus: t.transactionStatus,
    amount: formatMinorUnits(t.amount, m.currency),
    currency: m.currency,
    declineReasonText: t.declineReasonText,
    issuedAt: rfc3339(t.issuedAt),
  };
}

/** SUBSCRIPTION_UPDATED's `Updates`: the changed fields, PascalCase, with their new values. */
export function updatesJson(changes: MembershipChanges): Record<string, unknown> {
  const updates: Record<string, unknown> = {};
  if (changes.name !== undefined) updates.Name = changes.name;
  if (changes.pricePerUnit !== undefined) updates.PricePerUnit = Number(changes.pricePerUnit);
  if (changes.quantity !== undefined) updates.Quantity = changes.quantity;
  if (changes.endDate !== undefined) updates.EndDate = rfc3339(changes.endDate);
  if (changes.intervalType !== undefined) updates.IntervalType = changes.intervalType;
  if (changes.intervalCount !== undefined) updates.IntervalCount = changes.intervalCount;
  if (changes.metadata !== undefined) updates.Metadata = changes.metadata;
  return updates;
}
