import type { EmulatorContext } from './context';
import { conflict } from './problems';
import type { MembershipRecord, MembershipStatus } from './records';
import { emitStatusChanged } from './webhook-events';

const HOUR_MS = 3_600_000;
/** An Incomplete membership whose checkout is not paid within 24 h of its creation expires. */
export const CHECKOUT_WINDOW_MS = 24 * HOUR_MS;

/**
 * Cancels at once: Open invoices are voided (a pending update with them), paid and failed ones stay. Canceling a
 * Canceled membership answers the same again (the document: safe to retry).
 */
export function cancelMembership(ctx: EmulatorContext, m: MembershipRecord): void {
  if (m.status === 'Canceled') return;
  if (m.status === 'Expired' || m.status === 'Completed') throw conflict(`Membership is already ${m.status}`);
  m.canceledAt = ctx.state.now;
  end(ctx, m, 'Canceled');
}

/** An unpaid Incomplete membership past its checkout window. */
export function expireMembership(ctx: EmulatorContext, m: MembershipRecord): void {
  end(ctx, m, 'Expired');
}

/** endDate reached: no further cycles. */
export function completeMembership(ctx: EmulatorContext, m: MembershipRecord): void {
  end(ctx, m, 'Completed');
}

function end(ctx: EmulatorContext, m: MembershipRecord, status: MembershipStatus): void {
  for (const invoice of m.invoices) if (invoice.status === 'Open') invoice.status = 'Void';
  m.status = status;
  m.dunning = null;
  m.pendingUpdate = null;
  m.updatedAt = ctx.state.now;
  emitStatusChanged(ctx, m);
}
