import { createHash } from 'node:crypto';

/** The id of our change, from the call's idempotency key: the same on every retry of one ChangePlan/UpdateQuantity. */
export function changeIdOf(idempotencyKey: string, operation: string): string {
  return `chg_${createHash('sha256').update(`${idempotencyKey}:${operation}`, 'utf8').digest('hex').slice(0, 24)}`;
}
