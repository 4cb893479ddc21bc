import { controlledOutcome } from './charge-outcome';
import type { EmulatorContext } from './context';
import { invoiceOf, openInvoice, recordPayIn } from './invoices';
import { prorate } from './money';
import { conflict } from './problems';
import type { MembershipChanges, MembershipRecord } from './records';
import { emitTransaction, emitUpdated } from './webhook-events';

/**
 * Takes an update (wire contract "PUT membership"): proration = (new total − old total) × remaining / period
 * seconds. Positive: a Proration invoice is charged as work due now and the update waits for it; zero or negative:
 * applied at once, the credit added to `credits`. Answers the proration in minor units.
 */
export function requestUpdate(
  ctx: EmulatorContext,
  m: MembershipRecord,
  changes: MembershipChanges,
  newTotal: bigint,
): bigint {
  if (m.status !== 'Active' && m.status !== 'PastDue')
    throw conflict(`Membership is ${m.status}: only Active or PastDue memberships can be updated`);
  if (m.pendingUpdate) throw conflict('Membership has an update pending its proration charge');
  const now = ctx.state.now;
  const start = m.currentPeriodStart ?? now;
  const end = m.currentPeriodEnd ?? now;
  const periodSeconds = BigInt(Math.max(1, Math.floor((end - start) / 1000)));
  const remainingSeconds = BigInt(Math.min(Math.max(0, Math.floor((end - now) / 1000)), Number(periodSeconds)));
  const proration = prorate(newTotal - m.totalAmount, remainingSeconds, periodSeconds);
  if (proration > 0n) {
    const invoice = openInvoice(ctx, m, { type: 'Proration', amount: proration, periodStart: now, periodEnd: end });
    m.pendingUpdate = { changes, newTotal, prorationAmount: proration, invoiceKey: invoice.key, chargeAt: now };
  } else {
    m.credits += -proration;
    applyChanges(ctx, m, changes, newTotal);
  }
  m.updatedAt = now;
  return proration;
}

/** The pending update's proration charge: Success applies the update, a decline drops it. */
export function chargeProration(ctx: EmulatorContext, m: MembershipRecord): void {
  const pending = m.pendingUpdate;
  const invoice = pending?.invoiceKey ? invoiceOf(m, pending.invoiceKey) : undefined;
  if (!pending || !invoice) {
    m.pendingUpdate = null;
    return;
  }
  const outcome = controlledOutcome(ctx);
  const transaction = recordPayIn(
    ctx,
    invoice,
    outcome.success ? 'Success' : 'Rejected',
    outcome.success ? null : outcome.reason,
  );
  m.pendingUpdate = null;
  m.updatedAt = ctx.state.now;
  invoice.status = outcome.success ? 'Paid' : 'Failed';
  emitTransaction(ctx, m, invoice, transaction);
  if (outcome.success) applyChanges(ctx, m, pending.changes, pending.newTotal);
}

// An interval change keeps the current period's end: the next period is the first of the new length.
function applyChanges(ctx: EmulatorContext, m: MembershipRecord, changes: MembershipChanges, newTotal: bigint): void {
  if (changes.name !== undefined) m.name = changes.name;
  if (changes.pricePerUnit !== undefined) m.pricePerUnit = changes.pricePerUnit;
  if (changes.quantity !== undefined) m.quantity = changes.quantity;
  if (changes.intervalType !== undefined) m.intervalType = changes.intervalType;
  if (changes.intervalCount !== undefined) m.intervalCount = changes.intervalCount;
  if (changes.endDate !== undefined) m.endDate = changes.endDate;
  if (changes.metadata !== undefined) m.metadata = changes.metadata;
  m.totalAmount = newTotal;
  m.updatedAt = ctx.state.now;
  emitUpdated(ctx, m, changes);
}
