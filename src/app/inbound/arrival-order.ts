import type { InboxEntry } from '../../ports/store.port';

/**
 * Where a webhook stands in its ordering key's sequence when it is processed: the next one, one after a gap (earlier
 * ones never came within the gap wait), or a late one (at or below what was applied already). Providers number from
 * 1, so with nothing applied yet 1 is next.
 */
export type ArrivalOrder =
  { kind: 'unordered' } | { kind: 'next' } | { kind: 'after a gap' | 'late'; sequence: bigint; position: bigint };

export function arrivalOrder(entry: Pick<InboxEntry, 'orderingKey' | 'sequence' | 'orderPosition'>): ArrivalOrder {
  if (entry.orderingKey === undefined || entry.sequence === undefined) return { kind: 'unordered' };
  const sequence = BigInt(entry.sequence);
  const position = entry.orderPosition === undefined ? 0n : BigInt(entry.orderPosition);
  if (sequence > position + 1n) return { kind: 'after a gap', sequence, position };
  if (sequence <= position) return { kind: 'late', sequence, position };
  return { kind: 'next' };
}

/** What the inbox note says, so on-call sees why a webhook was applied as it was (empty when it was in order). */
export function arrivalNote(order: ArrivalOrder): string {
  if (order.kind !== 'after a gap' && order.kind !== 'late') return '';
  return `${order.kind} (sequence ${order.sequence}, last applied ${order.position}): `;
}
