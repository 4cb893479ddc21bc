import type { InvoiceStatus } from './invoice';

/**
 * How far an invoice has come: an invoice only moves forward. One invoice stands for one billing cycle and is shared
 * by every attempt to collect it (dunning retries), so a report about an earlier attempt that arrives late (a
 * redelivered `payment_failed` after the recovery was applied) must not take a paid cycle back to failed.
 */
const RANK: Record<Exclude<InvoiceStatus, 'VOID'>, number> = {
  OPEN: 0,
  FAILED: 1,
  PAID: 2,
  PARTIALLY_REFUNDED: 3,
  REFUNDED: 4,
};

/**
 * Whether a reported invoice status may replace the one we hold: OPEN → FAILED → PAID → PARTIALLY_REFUNDED →
 * REFUNDED, steps may be skipped, none taken back. VOID is final and only an unpaid invoice (OPEN, FAILED) is voided:
 * a paid one is refunded, never voided.
 */
export function canMoveInvoice(from: InvoiceStatus, to: InvoiceStatus): boolean {
  if (from === to) return true;
  if (from === 'VOID') return false;
  if (to === 'VOID') return from === 'OPEN' || from === 'FAILED';
  return RANK[to] > RANK[from];
}
