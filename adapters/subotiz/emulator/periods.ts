import { addInterval } from './calendar';
import type { SubscriptionRecord } from './records';

/** Start of paid cycle `cycle` (1-based), counted from the billing anchor so periods never drift. */
export function cycleStart(sub: SubscriptionRecord, cycle: number): number {
  return addInterval(sub.billingAnchor, sub.price.interval, (cycle - 1) * sub.price.intervalCount);
}

/** End of paid cycle `cycle` (1-based). */
export function cycleEnd(sub: SubscriptionRecord, cycle: number): number {
  return addInterval(sub.billingAnchor, sub.price.interval, cycle * sub.price.intervalCount);
}

/** Whether a fixed-term subscription (`total_cycles` > 0) has had all its paid cycles. */
export function cyclesExhausted(sub: SubscriptionRecord): boolean {
  return sub.price.totalCycles > 0 && sub.cycleIndex >= sub.price.totalCycles;
}
