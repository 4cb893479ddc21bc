import type { EventDraft } from '../../domain/event';
import type { ActorContext, AuditEntry, Repositories } from '../../ports/store.port';

/** What one change is to consumers and auditors: the events it emits, in order, and its audit row. */
export interface RecordedChange {
  events?: readonly EventDraft[];
  audit: Omit<AuditEntry, keyof ActorContext>;
}

/**
 * Writes a change's events to the outbox and its audit row, in the caller's transaction, so they commit with the
 * state change or not at all. Every use case and applier records its changes through here: the actor (and the
 * provider event that caused it, if any) is written the same way everywhere.
 */
export async function recordChange(
  repos: Pick<Repositories, 'outbox' | 'audit'>,
  actor: ActorContext,
  change: RecordedChange,
): Promise<void> {
  for (const event of change.events ?? []) await repos.outbox.append(event, actor);
  await repos.audit.record({
    actor: actor.actor,
    correlationId: actor.correlationId,
    onBehalfOf: actor.onBehalfOf,
    ...change.audit,
  });
}
