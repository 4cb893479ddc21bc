import { nextBoundary } from './billing-dates';
import { recurringOutcome } from './charge-outcome';
import type { EmulatorContext } from './context';
import { invoiceOf, openInvoice, recordPayIn } from './invoices';
import type { InvoiceRecord, MembershipRecord } from './records';
import { emitStatusChanged, emitTransaction } from './webhook-events';

const HOUR_MS = 3_600_000;
/** Dunning: a failed recurring charge is retried every 24 h, 3 times (wire contract "Billing"). */
export const DUNNING_INTERVAL_MS = 24 * HOUR_MS;
export const DUNNING_RETRIES = 3;

/**
 * Starts the next cycle at the current period's end: a Recurring invoice for the total less the credits it uses
 * (credits first; fully covered → Paid with no transaction), then its charge.
 */
export function renew(ctx: EmulatorContext, m: MembershipRecord): void {
  const start = m.currentPeriodEnd ?? ctx.state.now;
  const end = nextBoundary(start, m.intervalType, m.intervalCount);
  m.cycle += 1;
  m.currentPeriodStart = start;
  m.currentPeriodEnd = end;
  const creditApplied = m.credits < m.totalAmount ? m.credits : m.totalAmount;
  m.credits -= creditApplied;
  const invoice = openInvoice(ctx, m, {
    type: 'Recurring',
    amount: m.totalAmount - creditApplied,
    creditApplied,
    periodStart: start,
    periodEnd: end,
  });
  m.updatedAt = ctx.state.now;
  if (invoice.amount === 0n) {
    // No webhook: the wire contract's events are a transaction's or a status change's, and here is neither (no
    // charge, still Active). A merchant learns of the new period by reading the membership (README: Assumptions).
    invoice.status = 'Paid';
    return;
  }
  chargeRecurring(ctx, m, invoice);
}

/** A dunning retry of the failed recurring invoice. */
export function retryDunning(ctx: EmulatorContext, m: MembershipRecord): void {
  const invoice = m.dunning && invoiceOf(m, m.dunning.invoiceKey);
  if (!m.dunning || !invoice) {
    m.dunning = null;
    return;
  }
  m.dunning.retriesDone += 1;
  chargeRecurring(ctx, m, invoice);
}

function chargeRecurring(ctx: EmulatorContext, m: MembershipRecord, invoice: InvoiceRecord): void {
  const outcome = recurringOutcome(ctx, m);
  const before = m.status;
  const transaction = recordPayIn(
    ctx,
    invoice,
    outcome.success ? 'Success' : 'Rejected',
    outcome.success ? null : outcome.reason,
  );
  if (outcome.success) {
    invoice.status = 'Paid';
    m.status = 'Active';
    m.dunning = null;
  } else {
    invoice.status = 'Failed';
    const retriesDone = m.dunning?.retriesDone ?? 0;
    if (retriesDone >= DUNNING_RETRIES) {
      m.status = 'Unpaid';
      m.dunning = null;
    } else {
      m.status = 'PastDue';
      m.dunning = { invoiceKey: invoice.key, retriesDone, nextRetryAt: ctx.state.now + DUNNING_INTERVAL_MS };
    }
  }
  m.updatedAt = ctx.state.now;
  emitTransaction(ctx, m, invoice, transaction);
  if (m.status !== before) emitStatusChanged(ctx, m);
}
