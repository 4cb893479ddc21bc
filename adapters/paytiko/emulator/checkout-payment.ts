import { nextBoundary } from './billing-dates';
import type { EmulatorContext } from './context';
import { openInvoice, recordPayIn } from './invoices';
import { conflict } from './problems';
import type { InvoiceRecord, MembershipRecord } from './records';
import { emitStatusChanged, emitTransaction } from './webhook-events';

const CHECKOUT_DECLINE = 'Card declined.';

/** The hosted checkout's "pay": the Initial invoice is paid and period 1 starts now. */
export function payCheckout(ctx: EmulatorContext, m: MembershipRecord): void {
  assertAwaitingPayment(m);
  const now = ctx.state.now;
  const periodEnd = nextBoundary(now, m.intervalType, m.intervalCount);
  m.cycle = 1;
  const invoice = initialInvoice(ctx, m);
  invoice.periodStart = now;
  invoice.periodEnd = periodEnd;
  invoice.cycle = 1;
  invoice.status = 'Paid';
  const transaction = recordPayIn(ctx, invoice, 'Success', null);
  m.status = 'Active';
  m.startDate = now;
  m.currentPeriodStart = now;
  m.currentPeriodEnd = periodEnd;
  m.updatedAt = now;
  emitTransaction(ctx, m, invoice, transaction);
  emitStatusChanged(ctx, m);
}

/** The hosted checkout's "decline": a Rejected transaction; the Initial invoice stays Open for another try. */
export function declineCheckout(ctx: EmulatorContext, m: MembershipRecord): void {
  assertAwaitingPayment(m);
  const invoice = initialInvoice(ctx, m);
  const transaction = recordPayIn(ctx, invoice, 'Rejected', CHECKOUT_DECLINE);
  m.updatedAt = ctx.state.now;
  emitTransaction(ctx, m, invoice, transaction);
}

/** The Initial invoice, opened on creation (or now, for a membership that has none). */
export function initialInvoice(ctx: EmulatorContext, m: MembershipRecord): InvoiceRecord {
  const existing = m.invoices.find((invoice) => invoice.type === 'Initial');
  if (existing) return existing;
  const now = ctx.state.now;
  return openInvoice(ctx, m, {
    type: 'Initial',
    amount: m.totalAmount,
    periodStart: now,
    periodEnd: nextBoundary(now, m.intervalType, m.intervalCount),
  });
}

function assertAwaitingPayment(m: MembershipRecord): void {
  if (m.status !== 'Incomplete') throw conflict('Membership is not awaiting payment');
}
