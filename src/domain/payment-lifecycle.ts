import type { PaymentStatus } from './payment';

/**
 * Whether a reported payment status may replace the one we hold. Settled payments (succeeded, closed) stay
 * settled; a failed attempt may still succeed on retry; anything may leave the open states.
 */
export function canMovePayment(from: PaymentStatus, to: PaymentStatus): boolean {
  if (from === to) return true;
  if (from === 'SUCCEEDED' || from === 'CLOSED') return false;
  if (from === 'FAILED') return to === 'SUCCEEDED' || to === 'CLOSED' || to === 'PROCESSING';
  return true;
}
